/**
 * The public types, compiled with the repository's TypeScript (`test/types`, never run):
 * - `decrypt-error.ts`: the extended client's result types under `onDecryptError` (issue 11):
 *   with `'null'` every encrypted field reads `string | null` (`Json`, `Bytes`, `String[]` ones
 *   their own type or `null`; at any depth, in transactions, in a delete's result), plaintext
 *   columns keep their types, and the default stays `string`;
 * - `options.ts`: `fieldEncryption`'s options refuse what the runtime refuses in every case.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');

/** The compiler's diagnostics (none when the project compiles). */
let errors: Promise<string[]>;
beforeAll(() => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  errors = promisify(execFile)(process.execPath, [tsc, '-p', join(ROOT, 'test', 'types')], { cwd: ROOT }).then(
    () => [],
    (error: { stdout?: string }) => messages(error.stdout ?? String(error)),
  );
});
/** One entry per diagnostic: a message's indented continuation lines go with its first line. */
const messages = (output: string): string[] =>
  output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .reduce<string[]>((all, line) => {
      if (/^\s/.test(line) && all.length > 0) all[all.length - 1] += `\n${line}`;
      else all.push(line);
      return all;
    }, []);
const errorsIn = async (file: string) =>
  (await errors).filter((line) => line.startsWith(`test/types/${file}`) || !line.startsWith('test/types/'));

it('types encrypted fields string | null under onDecryptError: null, and string otherwise', async () => {
  expect(await errorsIn('decrypt-error.ts')).toEqual([]);
}, 120_000);

it('refuses fieldEncryption options with neither keyring nor crypto, and misspelled ones', async () => {
  expect(await errorsIn('options.ts')).toEqual([]);
}, 120_000);
