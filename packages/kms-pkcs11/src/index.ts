/**
 * `@hushfield/kms-pkcs11`: the PKCS#11 (HSM) keyring for hushfield: a 256-bit AES key in a
 * token, CKM_AES_GCM with the encryption context as associated data. Uses `pkcs11js`.
 */
export { Pkcs11Keyring, type Pkcs11KeyringOptions, type Pkcs11KeyDescription } from './pkcs11-keyring';
export type { Pkcs11Module } from './pkcs11-module';
export type { PinSource } from './pkcs11-token';
export { Pkcs11KeyringError, type Pkcs11ErrorCode } from './pkcs11-errors';
