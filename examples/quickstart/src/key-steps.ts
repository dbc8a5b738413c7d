/**
 * The demo's key-management steps, done the way an operator does them: with the `hushfield`
 * CLI (rotate + reencrypt, status, shred), then checked from the application's side.
 */
import type { HushfieldCli } from './hushfield-cli';
import { dim, green, note, say, step } from './print';
import { fail, readEachTenant, type DemoContext } from './steps';
import { storedPatients } from './stored';

/** Runs one CLI command and prints its output, indented. */
async function show(cli: HushfieldCli, args: readonly string[]): Promise<number> {
  say(`$ hushfield ${args.join(' ')}`);
  const { exitCode, output } = await cli.run(args);
  for (const line of output.trimEnd().split('\n')) say(dim(`  ${line}`));
  if (exitCode !== 0) fail(`hushfield ${args[0]} exited with code ${exitCode}`);
  return exitCode;
}

/** Stored patients of `tenantId` counted by the scope-key version their envelopes name. */
async function versions({ db, clinic }: DemoContext, tenantId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const row of await storedPatients(db, tenantId)) {
    const { version } = clinic.prisma.$hushfield.crypto.describe(row.email);
    counts[`key v${version}`] = (counts[`key v${version}`] ?? 0) + 1;
  }
  return counts;
}

/** Step: rotate one tenant's scope key, then re-encrypt its rows under the new version. */
export async function rotateAndReencrypt(context: DemoContext, cli: HushfieldCli): Promise<void> {
  step("Rotating northside's scope key, then re-encrypting with `hushfield reencrypt`");
  say(`northside patients by key version before: ${JSON.stringify(await versions(context, 'northside'))}`);
  await show(cli, ['keys', 'rotate', '--scope', 'northside']);
  await show(cli, ['keys', 'list', '--scope', 'northside']);
  say(`after rotation (old rows still decrypt):  ${JSON.stringify(await versions(context, 'northside'))}`);
  await show(cli, ['reencrypt']);
  const after = await versions(context, 'northside');
  say(`after reencrypt:                          ${JSON.stringify(after)}`);
  if (Object.keys(after).length !== 1) fail('reencrypt left northside values under more than one key version');
  const ada = await context.clinic.prisma.patient.findFirst({ where: { email: 'ada.okafor@example.com' } });
  if (ada) say(green(`✓ the application still reads ${ada.mrn}: ${ada.name}, ${ada.email}`));
  else fail('N-1001 not found after reencrypt');
}

/** Step: `hushfield status`. */
export async function status(cli: HushfieldCli): Promise<void> {
  step('What is stored, by key version: `hushfield status`');
  await show(cli, ['status']);
}

/** Step: crypto-shred one tenant, then read both tenants. */
export async function shredTenant(context: DemoContext, cli: HushfieldCli): Promise<void> {
  step('Harbor Pediatrics leaves and asks for erasure: crypto-shredding its scope key');
  await show(cli, ['keys', 'shred', '--scope', 'harbor', '--yes']);
  const rows = await storedPatients(context.db, 'harbor');
  say(`Harbor's ${rows.length} patient rows are still in the table, as ciphertext whose key no longer exists.`);
  note(
    'Backups of the data are as dead as the table. Backups of the key table taken before the shred still hold the ' +
      "wrapped key: expire them, or rewrap to a new root key and retire the old one. The rows' blind-index values " +
      'use the shared index key, so delete the rows too once shredded (see the README).',
  );
  say('Reading both tenants with a new application client:');
  const outcome = await readEachTenant(context);
  if (outcome.harbor !== 'KeyDestroyedError') fail('harbor is still readable after the shred');
  if (outcome.northside !== 'readable') fail('northside is no longer readable');
  note(
    'A process that unwrapped the key before the shred keeps it in memory until its cache TTL ' +
      '(5 minutes here) expires; after that, every reader fails the same way.',
  );
}
