/**
 * The hushfield quick start: a two-tenant clinic on embedded PostgreSQL, step by step.
 *
 *   pnpm demo            run (reuses the database and root key of an earlier run)
 *   pnpm demo --reset    delete the database and the root key first, and start over
 */
import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import { createClinic } from './clinic';
import { openDatabase } from './database';
import { loadKeyring } from './keyring';
import { bold, dim, say, step } from './print';
import { dataDir, keyFile } from './paths';
import {
  cacheCounters,
  compareStored,
  lookups,
  readEachTenant,
  refusals,
  writePatients,
  type DemoContext,
} from './steps';
import { emptyTables, rowCounts } from './stored';
import { rotateAndReencrypt, shredTenant, status } from './key-steps';
import { openHushfield } from './hushfield-cli';

/** A path as the user best reads it: relative below the working directory, else absolute. */
const where = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
};

async function main(argv: readonly string[]): Promise<void> {
  const unknown = argv.filter((arg) => arg !== '--reset');
  if (unknown.length > 0) {
    console.error(`unknown option: ${unknown.join(' ')} (usage: pnpm demo [--reset])`);
    process.exitCode = 2;
    return;
  }
  console.log(bold('hushfield quick start: a two-tenant clinic on embedded PostgreSQL (PGlite)'));
  if (argv.includes('--reset')) {
    rmSync(dataDir(), { recursive: true, force: true });
    rmSync(keyFile(), { force: true });
    say(`--reset: deleted ${where(dataDir())} and ${where(keyFile())}`);
  }

  const { keyring, created: keyCreated } = loadKeyring(keyFile());
  say(
    `${keyCreated ? 'generated' : 'reusing'} the local root key in ${where(keyFile())}  ${dim(`(keyring ${keyring.id})`)}`,
  );
  const database = await openDatabase(dataDir());
  say(
    `${database.created ? 'created' : 'reusing'} the database in ${where(dataDir())}` +
      (database.applied.length > 0 ? `, applied migration ${database.applied.join(', ')}` : ''),
  );

  const { pglite: db } = database;
  const clinic = createClinic(db, keyring);
  const context: DemoContext = { db, clinic, freshClinic: () => createClinic(db, keyring) };
  try {
    const previous = await rowCounts(db);
    if (previous.tenants > 0 || previous.keys > 0) {
      step('State left by the previous run');
      say(
        `${previous.patients} patients of ${previous.tenants} tenants, ${previous.keys} keys in the key store. Reading them now:`,
      );
      await readEachTenant(context);
      say('Starting a fresh round: emptying the clinic tables and the key store (the root key is kept;');
      say('`pnpm demo --reset` deletes it too).');
      await emptyTables(db);
    }

    const hushfield = openHushfield(db, keyring);
    await writePatients(context);
    await compareStored(context);
    await lookups(context);
    await refusals(context);
    await rotateAndReencrypt(context, hushfield);
    await status(hushfield);
    await shredTenant(context, hushfield);
    await cacheCounters(context);
    console.log(`\n${bold('Done.')} The database and root key stay in ${where(dataDir())} and ${where(keyFile())}:`);
    say('run `pnpm demo` again to see the shredded tenant still unreadable, or `pnpm demo --reset` to start over');
    say('(without pnpm installed: `npx -y pnpm@12.4.2 demo` and `npx -y pnpm@12.4.2 demo --reset`).');
  } finally {
    await clinic.base.$disconnect();
    await db.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const code = error && typeof error === 'object' && 'code' in error ? ` [${String(error.code)}]` : '';
  console.error(`\nquick start failed${code}: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
