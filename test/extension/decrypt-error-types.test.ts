/**
 * The extended client's result types under `onDecryptError` (issue 11): with `'null'` every
 * encrypted field reads `string | null` (`Json`, `Bytes`, `String[]` ones their own type or
 * `null`; at any depth, in transactions, in a delete's result), plaintext columns keep their
 * types, and the default stays `string`. The checks are in
 * `test/types/decrypt-error.ts`, compiled here with the repository's TypeScript.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');

it('types encrypted fields string | null under onDecryptError: null, and string otherwise', async () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = promisify(execFile)(process.execPath, [tsc, '-p', join(ROOT, 'test', 'types')], { cwd: ROOT });
  await expect(
    run.catch((error: { stdout?: string }) => Promise.reject(new Error(error.stdout))),
  ).resolves.toBeDefined();
}, 120_000);
