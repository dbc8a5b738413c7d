/**
 * `@hushfield/prisma`: the generator's schema metadata, the client extension and the
 * Prisma-backed key store.
 */
export * from './metadata';
export {
  type DecryptErrorResults,
  fieldEncryption,
  type FieldEncryptionOptions,
  type FieldEncryptionSettings,
  type HushfieldClientApi,
  type HushfieldExtension,
  type KeyringOrCrypto,
  type MigratingModels,
  type NullableEncryptedFields,
} from './extension/extension';
export { blindIndexSpec, isPerScopeIndex, matchIndexSpec } from './extension/schema-view';
export {
  bindingMayBeMissing,
  boundField,
  boundRowId,
  delegateName,
  rowScope,
  unboundItems,
  valueContext,
} from './value-context';
export { isPrismaNull, isSealedValue, itemCount, jsonText, sealTyped, typedItems, typedPlain } from './typed-values';
export { isCloakCiphertext } from './extension/read/decrypt-result';
export type { OnDecryptError } from './extension/read/decrypt-result';
export { computedBlindIndex } from './extension/computed-index';
export { columnCapacity, type ColumnCapacity, overCapacity } from './column-capacity';
export { canonicalUuid } from './extension/write/canonical-values';
export { PrismaKeyStore, type PrismaKeyStoreOptions } from './key-store/prisma-key-store';
export { buildSchema, validateSchema, type GeneratorSettings, type Validation } from './generator/build-schema';
export type { DmmfDocument, DmmfModel, DmmfField, DmmfDefault } from './generator/dmmf';
export { PrismaAuditSink, listAuditEvents } from './audit/prisma-audit-sink';
export type { AuditQuery, PrismaAuditSinkOptions, StoredAuditEvent } from './audit/prisma-audit-sink';
