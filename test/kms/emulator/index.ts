/**
 * KMS endpoints for tests: the loopback emulator (always), LocalStack (where Docker answers),
 * and an administration client for either. See README.md.
 */
export { startKmsEmulator, type KmsEmulator, type KmsEmulatorOptions } from './server';
export { KmsFaults, KmsCallCounter, type FaultFilter } from './faults';
export { KMS_OPERATIONS, type KmsOperation } from './operations';
export { kmsAdmin, KmsAdminError, type KmsAdmin, type KmsTarget, type CreatedKey } from './admin';
export {
  startLocalStackKms,
  containerRuntimeAvailable,
  containerRuntimeLikely,
  type LocalStackKms,
} from './localstack';
