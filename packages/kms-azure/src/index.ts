/**
 * `@hushfield/kms-azure`: the Azure Key Vault / Managed HSM keyring for hushfield, through the
 * official `@azure/keyvault-keys` SDK (`CryptographyClient.wrapKey`/`unwrapKey`, `A256KW` or
 * `RSA-OAEP-256`), with the encryption context bound inside the wrapped blob.
 */
export { AzureKeyVaultKeyring, type AzureKeyVaultKeyringOptions } from './azure-key-vault-keyring';
export { AzureKeyringError, type AzureErrorCode } from './azure-errors';
export type { AzureWrapAlgorithm } from './azure-wrapped-key';
export { CONTEXT_DOMAIN } from './key-blob';
