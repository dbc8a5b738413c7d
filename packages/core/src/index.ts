/**
 * @hushfield/core: envelope encryption, key hierarchy, key cache and blind indexes.
 * No Prisma, no cloud SDK: only `node:crypto`, `lru-cache` and
 * `@opentelemetry/api` (a no-op until the application installs an OpenTelemetry SDK).
 */
export * from './errors';
export * from './keyring';
export * from './key-store';
export * from './audit';

export { LocalKeyring } from './local-keyring';
export { MemoryKeyStore } from './memory-key-store';
export { DEFAULT_INDEX_VERSIONS_TTL_MS, type KeyCacheOptions } from './key-cache';
export { KeyHierarchy } from './key-hierarchy';
export { KeyAdmin } from './key-admin';
export type { KeyHierarchyOptions } from './key-hierarchy';
export { FieldCrypto } from './field-crypto';
export type { FieldCryptoOptions, CacheStats, DecryptItem, IndexVersionsMark } from './field-crypto';
export { checkFieldCryptoOptions } from './field-crypto-options';
export type { CheckedCryptoOptions } from './field-crypto-options';
export type { AuditDecryptsOption } from './decrypt-sampling';
export type { DekPoolOptions } from './dek-pool';
export type { ParallelDecryptOption } from './parallel-decrypt';
export type { FieldContext, RowEncryptor } from './row-encryptor';
export { checkBytes, checkPlaintext } from './row-encryptor';
export type { ValueKind, ValueType } from './associated-data';
export {
  BINARY_FORMAT_VERSION,
  BINARY_MAGIC,
  binaryKeyOf,
  isBinaryEnvelope,
  MAX_BINARY_ENVELOPE_BYTES,
} from './binary-envelope';
export { maxBlindIndexLength, normalize, NORMALIZERS, PINNED_UNICODE_VERSION } from './blind-index';
export {
  checkMatchSpec,
  codePointLength,
  MAX_MATCH_ROOT_VERSION,
  matchesQuery,
  matchFingerprint,
  matchPositionVersion,
  queryGrams,
} from './match-index';
export type { MatchFold, MatchIndexSpec, MatchKind } from './match-index';
export type { BlindIndexParts, BlindIndexSpec, Normalizer, NormalizerName } from './blind-index';
export {
  isNormalizer,
  normalizerVersion,
  runtimeUnicodeVersion,
  unicodeMismatches,
  versionedName,
} from './normalizers';
export type { UnicodeMismatch } from './normalizers';
export { ENVELOPE_PREFIX, FORMAT_VERSION, isEnvelope } from './envelope';
export {
  callRemoteKeyring,
  keyringBackoffDelay,
  networkErrorCode,
  parseRetryAfter,
  remoteCallFailedMessage,
  emitKeyringCallEvent,
  resolveKeyringRetry,
  resolveKeyringTimeout,
  RETRYABLE_NETWORK_CODES,
  untilAborted,
} from './remote-keyring-call';
export type {
  KeyringFailure,
  KeyringRetryOptions,
  RemoteCallTarget,
  RemoteKeyringSettings,
  ResolvedKeyringRetryOptions,
} from './remote-keyring-call';
export { wrapContext, type KeySlot } from './keyring-calls';
export { checkAuditOptions } from './audit-emitter';
export { checkOptionsObject } from './preconditions';
export { settleAll } from './settle-all';
export { encodeEncryptionContext, MAX_CONTEXT_BYTES } from './canonical-context';
export { TELEMETRY_NAME, inSpan, errorCode, countAuditDropped } from './telemetry';
export * from './audit-sinks';
