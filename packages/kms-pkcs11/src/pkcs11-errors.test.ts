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
