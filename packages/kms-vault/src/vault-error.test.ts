import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RETRYABLE_VAULT_CODES } from './vault-error';

describe("the README's error table", () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| `vaultCode` |')).split('\n\n')[0];
  /** Each row's codes and whether it says they are retried. */
  const rows = table
    .split('\n')
    .slice(2)
    .map((line) => {
      const cells = line.split('|').map((cell) => cell.trim());
      return { codes: [...cells[1].matchAll(/`(\w+)`/g)].map((m) => m[1]), retried: cells[3] };
    });
  /** The codes `VaultErrorCode` lists, read from its declaration. */
  const declared = [
    .../export type VaultErrorCode =([^;]*);/
      .exec(readFileSync(join(__dirname, 'vault-error.ts'), 'utf8'))![1]
      .matchAll(/'(\w+)'/g),
  ].map((match) => match[1]);

  it('reads the declaration and the table', () => {
    expect(declared.length).toBeGreaterThan(15);
    expect(rows.length).toBeGreaterThan(10);
  });

  it.each(declared)('names %s, retried as the classifier retries it', (code) => {
    const row = rows.find((candidate) => candidate.codes.includes(code));
    expect(row).toBeDefined();
    expect([code, row!.retried]).toEqual([code, RETRYABLE_VAULT_CODES.has(code as never) ? 'yes' : 'no']);
  });
});
