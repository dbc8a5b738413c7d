/**
 * `@hushfield/kms-gcp`: the Google Cloud KMS keyring for hushfield, through the official
 * `@google-cloud/kms` client. The only hushfield package that imports a Google Cloud SDK.
 */
export {
  GcpKmsKeyring,
  AAD_DOMAIN,
  contextAad,
  wrappedKeyVersion,
  type GcpKmsKeyringOptions,
  type GcpKmsClientOptions,
} from './gcp-kms-keyring';
