/**
 * `@hushfield/kms-aws`: the AWS KMS keyring for hushfield, and a multi-keyring for
 * multi-Region disaster recovery. The only hushfield package that imports the AWS SDK.
 */
export { AwsKmsKeyring, type AwsKmsKeyringOptions, type AwsKmsKeyDescription } from './aws-kms-keyring';
export { MultiKeyring, type MultiKeyringOptions } from './multi-keyring';
export type { RetryOptions } from './retry';
