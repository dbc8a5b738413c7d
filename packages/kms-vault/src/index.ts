/**
 * `@hushfield/kms-vault`: the HashiCorp Vault / OpenBao Transit keyring for hushfield. Talks to
 * Vault's HTTP API with Node's global `fetch`; no Vault SDK.
 */
export {
  VaultTransitKeyring,
  type VaultTransitKeyringOptions,
  type VaultTransitKeyDescription,
} from './vault-transit-keyring';
export { VaultKeyringError, type VaultErrorCode } from './vault-error';
export type { VaultAuthOptions, VaultTokenAuth, VaultAppRoleAuth, SecretSource } from './vault-auth';
export { encodeContext, contextParameter, CONTEXT_DOMAIN } from './context-encoding';
export type { RetryOptions } from './retry';
