import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { classifyPkcs11Error, describePkcs11Failure, Pkcs11SetupError, returnValueName } from './pkcs11-errors';

const ckr = (name: keyof typeof pkcs11js) =>
  new pkcs11js.Pkcs11Error(`${String(name)}:${pkcs11js[name] as number}`, pkcs11js[name] as number, 'C_Decrypt');

describe('PKCS#11 error classification', () => {
  it('names return values and retries device and session failures only', () => {
    expect(returnValueName(ckr('CKR_DEVICE_ERROR'))).toBe('CKR_DEVICE_ERROR');
    expect(classifyPkcs11Error(ckr('CKR_DEVICE_ERROR'), false)).toEqual({ code: 'CKR_DEVICE_ERROR', retryable: true });
    expect(classifyPkcs11Error(ckr('CKR_SESSION_HANDLE_INVALID'), false).retryable).toBe(true);
    for (const name of [
      'CKR_PIN_INCORRECT',
      'CKR_PIN_LOCKED',
      'CKR_ENCRYPTED_DATA_INVALID',
      'CKR_GENERAL_ERROR',
      'CKR_MECHANISM_INVALID',
    ] as const) {
      expect(classifyPkcs11Error(ckr(name), false)).toEqual({ code: name, retryable: false });
    }
    expect(classifyPkcs11Error(new Pkcs11SetupError('KeyNotFound'), false)).toEqual({
      code: 'KeyNotFound',
      retryable: false,
    });
    expect(classifyPkcs11Error(new Error('x'), true)).toEqual({ code: 'Timeout', retryable: true });
    expect(classifyPkcs11Error({ name: 'Pkcs11Error', code: 0x7fff0001 }, false).code).toBe('CKR_0x7fff0001');
    expect(classifyPkcs11Error(new TypeError('bad'), false)).toEqual({ code: 'UnknownError', retryable: false });
  });

  it('words the failures users meet', () => {
    expect(describePkcs11Failure('CKR_PIN_INCORRECT', 1)).toContain('will not try it again');
    expect(describePkcs11Failure('KeyUnfit', 1)).toContain('256-bit AES key');
    expect(describePkcs11Failure('Timeout', 75)).toBe('no answer within 75 ms');
    expect(describePkcs11Failure('CKR_SOMETHING', 1)).toBe('CKR_SOMETHING');
  });
});

describe("the README's error table", () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| `pkcs11Code` |')).split('\n\n')[0];
  const source = readFileSync(join(__dirname, 'pkcs11-errors.ts'), 'utf8');
  /** Each row's codes and whether it says they are retried. */
  const rows = table
    .split('\n')
    .slice(2)
    .map((line) => {
      const cells = line.split('|').map((cell) => cell.trim());
      return { codes: [...cells[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]), retried: cells[3] };
    });
  const named = rows.flatMap((row) => row.codes);
  /** The codes `Pkcs11ErrorCode` lists, read from its declaration. */
  const declared = [...(/export type Pkcs11ErrorCode =([^;]*);/.exec(source)![1].matchAll(/'(\w+)'/g) ?? [])].map(
    (match) => match[1],
  );
  /** The codes `describePkcs11Failure` words. */
  const worded = [...source.matchAll(/case '(\w+)':/g)].map((match) => match[1]);

  it('has a row per code', () => {
    expect(rows.length).toBeGreaterThan(10);
    expect(declared.length).toBeGreaterThan(10);
  });

  it.each([...new Set([...declared, ...worded])])('names %s', (code) => {
    expect(named).toContain(code);
  });

  it('says of every return value and code whether it is retried as the classifier does', () => {
    for (const row of rows) {
      expect(['yes', 'no']).toContain(row.retried);
      for (const code of row.codes) {
        let retryable: boolean;
        if (code === 'Timeout') retryable = classifyPkcs11Error(new Error('aborted'), true).retryable;
        else if (code.startsWith('CKR_') && typeof pkcs11js[code as keyof typeof pkcs11js] === 'number')
          retryable = classifyPkcs11Error(ckr(code as keyof typeof pkcs11js), false).retryable;
        else if (code.startsWith('CKR_'))
          retryable = classifyPkcs11Error({ name: 'Pkcs11Error', code: 0x7fff0001 }, false).retryable;
        else retryable = classifyPkcs11Error(new Pkcs11SetupError(code), false).retryable;
        expect([code, retryable ? 'yes' : 'no']).toEqual([code, row.retried]);
      }
    }
  });

  it('names every retried return value', () => {
    const retried = Object.keys(pkcs11js).filter(
      (name) => name.startsWith('CKR_') && classifyPkcs11Error(ckr(name as keyof typeof pkcs11js), false).retryable,
    );
    expect(retried.length).toBeGreaterThan(5);
    for (const name of retried) expect(named).toContain(name);
  });
});
