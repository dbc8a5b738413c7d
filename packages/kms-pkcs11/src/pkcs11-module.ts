/**
 * The PKCS#11 module itself, below any token: its library loaded and initialised once per
 * process (counted, and finalised when its last user closes if this process initialised it),
 * and the calls the keyring makes through it: CKM_AES_GCM encryption and decryption in libuv's
 * thread pool (pkcs11js's asynchronous forms).
 */
import * as pkcs11js from 'pkcs11js';
import { returnValueName } from './pkcs11-errors';

/** The PKCS#11 calls the keyring makes (`pkcs11js.PKCS11`, or a test double wrapping one). */
export type Pkcs11Module = Pick<
  pkcs11js.PKCS11,
  | 'C_GetSlotList'
  | 'C_GetTokenInfo'
  | 'C_OpenSession'
  | 'C_CloseSession'
  | 'C_Login'
  | 'C_FindObjectsInit'
  | 'C_FindObjects'
  | 'C_FindObjectsFinal'
  | 'C_GetAttributeValue'
  | 'C_EncryptInit'
  | 'C_Encrypt'
  | 'C_DecryptInit'
  | 'C_Decrypt'
>;

interface LoadedModule {
  readonly module: pkcs11js.PKCS11;
  users: number;
  /** Whether this process's C_Initialize was ours (else someone else finalises). */
  readonly owned: boolean;
}

const loaded = new Map<string, LoadedModule>();

/**
 * Loads and initialises `library` once per process; counted, so {@link releaseModule} finalises
 * it with its last user.
 */
export function acquireModule(library: string): pkcs11js.PKCS11 {
  const existing = loaded.get(library);
  if (existing !== undefined) {
    existing.users++;
    return existing.module;
  }
  const module = new pkcs11js.PKCS11();
  module.load(library);
  let owned = true;
  try {
    module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (returnValueName(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw error;
    owned = false;
  }
  loaded.set(library, { module, users: 1, owned });
  return module;
}

/** Drops one user of `library`; the last one finalises it, if this process initialised it. */
export function releaseModule(library: string): void {
  const entry = loaded.get(library);
  if (entry === undefined || --entry.users > 0) return;
  loaded.delete(library);
  if (entry.owned) {
    try {
      entry.module.C_Finalize();
    } catch {
      // already finalised or the library is gone: nothing left to release
    }
  }
}

const AES_GCM_PARAMS = pkcs11js.CK_PARAMS_AES_GCM;

/** The CKM_AES_GCM mechanism: 96-bit IV, 128-bit tag, the context as AAD. */
export function aesGcm(iv: Buffer, aad: Buffer): pkcs11js.Mechanism {
  return {
    mechanism: pkcs11js.CKM_AES_GCM,
    parameter: { type: AES_GCM_PARAMS, iv, aad, ivBits: iv.length * 8, tagBits: 128 } as pkcs11js.AesGCM,
  };
}

/** Calls a pkcs11js function in its asynchronous (thread-pool) form. */
function nativeCall(call: (done: (error: Error | null, data: Buffer) => void) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    call((error, data) => (error ? reject(error) : resolve(data)));
  });
}

/** C_Encrypt in the thread pool. */
export function encrypt(
  module: Pkcs11Module,
  session: pkcs11js.Handle,
  key: pkcs11js.Handle,
  mechanism: pkcs11js.Mechanism,
  data: Buffer,
  outLength: number,
): Promise<Buffer> {
  module.C_EncryptInit(session, mechanism, key);
  return nativeCall((done) => module.C_Encrypt(session, data, Buffer.alloc(outLength), done));
}

/** C_Decrypt in the thread pool. */
export function decrypt(
  module: Pkcs11Module,
  session: pkcs11js.Handle,
  key: pkcs11js.Handle,
  mechanism: pkcs11js.Mechanism,
  data: Buffer,
  outLength: number,
): Promise<Buffer> {
  module.C_DecryptInit(session, mechanism, key);
  return nativeCall((done) => module.C_Decrypt(session, data, Buffer.alloc(outLength), done));
}
