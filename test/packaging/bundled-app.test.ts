/**
 * An app bundled into one file (esbuild `bundle: true, platform: 'node'`, as AWS Lambda and
 * Next.js server builds do) with `@hushfield/core` folded in: the decrypt thread of large reads
 * cannot find its script there. Reads must still return plaintext, and the app is told once,
 * with a warning naming the fix; with `@hushfield/core` left external the thread starts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { ROOT } from '../support/tarballs';

/** Seals 5,000 rows of 3 fields, then reads them twice (each read is over the 4,096-value threshold). */
const APP = `
import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring, MemoryKeyStore } from '@hushfield/core';

async function main() {
  const crypto = new FieldCrypto({ keyring: new LocalKeyring(randomBytes(32)), keyStore: new MemoryKeyStore(), cache: { ttlMs: 60_000 } });
  const items = [];
  const row = await crypto.rowEncryptor('default');
  for (let r = 0; r < 5000; r++)
    for (const field of ['email', 'ssn', 'notes']) {
      const ctx = { model: 'users', field, rowId: 'r' + r };
      items.push({ value: row.encrypt(field + ' of ' + r, ctx), ctx: { ...ctx, scope: 'default' } });
    }
  const reads = [];
  for (let i = 0; i < 2; i++) reads.push(await crypto.decryptMany(items));
  const right = reads.every((plain) => plain.every((text, i) => text === items[i].ctx.field + ' of ' + items[i].ctx.rowId.slice(1)));
  const thread = await crypto.startDecryptThread();
  // Node prints warnings on a later tick, which an app doing I/O reaches (this one does none).
  await new Promise((resolve) => setTimeout(resolve, 10));
  process.stdout.write(JSON.stringify({ right, thread }));
}
main().then(() => process.exit(0), (e) => { process.stderr.write(String(e)); process.exit(1); });
`;

describe('a bundled app', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hushfield-bundle-'));
    writeFileSync(join(dir, 'app.ts'), APP);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Bundles the app (core folded in, or left external) and runs it. */
  function run(external: boolean) {
    const outfile = join(dir, external ? 'external.js' : 'bundled.js');
    buildSync({
      entryPoints: [join(dir, 'app.ts')],
      bundle: true,
      platform: 'node',
      outfile,
      logLevel: 'silent',
      nodePaths: [join(ROOT, 'node_modules')],
      ...(external ? { external: ['@hushfield/core'] } : { alias: { '@hushfield/core': join(ROOT, 'packages/core') } }),
    });
    const child = spawnSync(process.execPath, [outfile], {
      encoding: 'utf8',
      timeout: 60_000,
      // The external form finds @hushfield/core where an installed app would: in node_modules.
      // No NODE_OPTIONS: the bundle runs as an app would, without the test runner's flags.
      env: { ...process.env, NODE_OPTIONS: '', NODE_PATH: join(ROOT, 'packages/cli/node_modules') },
    });
    return { status: child.status, out: child.stdout, err: child.stderr };
  }

  it('with @hushfield/core folded in: reads are right, and one warning says how to get the thread', () => {
    const { status, out, err } = run(false);
    expect(status).toBe(0);
    expect(JSON.parse(out)).toEqual({ right: true, thread: false });
    const warnings = err.split('\n').filter((line) => line.includes('HUSHFIELD_DECRYPT_THREAD'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/external/);
    expect(warnings[0]).toMatch(/parallelDecrypt: false/);
  }, 120_000);

  it('with @hushfield/core external: the thread starts, and nothing is warned', () => {
    const { status, out, err } = run(true);
    expect(status).toBe(0);
    expect(JSON.parse(out)).toEqual({ right: true, thread: true });
    expect(err).not.toMatch(/HUSHFIELD_DECRYPT_THREAD/);
  }, 120_000);

  it('a bundled CLI asked for --workers: a ConfigError says why, not a missing tsx', () => {
    writeFileSync(
      join(dir, 'cli.ts'),
      `import { startWorker } from ${JSON.stringify(join(ROOT, 'packages/cli/dist/commands/scaled-run.js'))};
      try { startWorker({} as never); process.stdout.write('started'); }
      catch (e) { process.stdout.write(JSON.stringify([(e as Error).constructor.name, (e as Error).message])); }
      process.exit(0);`,
    );
    const outfile = join(dir, 'cli.js');
    buildSync({
      entryPoints: [join(dir, 'cli.ts')],
      bundle: true,
      platform: 'node',
      outfile,
      logLevel: 'silent',
      nodePaths: [join(ROOT, 'node_modules'), join(ROOT, 'packages/cli/node_modules')],
    });
    const child = spawnSync(process.execPath, [outfile], { encoding: 'utf8', timeout: 60_000 });
    const [name, message] = JSON.parse(child.stdout) as [string, string];
    expect(name).toBe('ConfigError');
    expect(message).toMatch(/worker-thread\.js/);
    expect(message).toMatch(/--run/);
  }, 120_000);
});
