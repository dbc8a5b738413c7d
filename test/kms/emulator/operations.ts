/**
 * The TrentService operations the emulator answers: JSON request body in, JSON response body
 * out, {@link KmsFault} for AWS-shaped errors. Blobs travel as base64, timestamps as epoch
 * seconds, exactly as the KMS JSON 1.1 protocol carries them.
 */
import { randomBytes } from 'node:crypto';
import { KeyVault, KmsFault, keyMetadata, type EmulatedKey } from './key-vault';

/** Operations this emulator implements (the `X-Amz-Target` suffix). */
export const KMS_OPERATIONS = [
  'CreateKey',
  'CreateAlias',
  'UpdateAlias',
  'DescribeKey',
  'Encrypt',
  'Decrypt',
  'GenerateDataKey',
  'ReEncrypt',
  'EnableKeyRotation',
  'RotateKeyOnDemand',
  'DisableKey',
  'EnableKey',
  'ScheduleKeyDeletion',
] as const;

/** One of {@link KMS_OPERATIONS}. */
export type KmsOperation = (typeof KMS_OPERATIONS)[number];

type Body = Record<string, unknown>;
type Handler = (vault: KeyVault, request: Body) => Body;

function blob(request: Body, field: string): Buffer {
  const value = request[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new KmsFault(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return Buffer.from(value, 'base64');
}

function context(request: Body, field = 'EncryptionContext'): Record<string, string> | undefined {
  const value = request[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new KmsFault('ValidationException', `${field} must be a map of strings`);
  }
  return value as Record<string, string>;
}

function dataKeyLength(request: Body): number {
  if (request.KeySpec === 'AES_256') return 32;
  if (request.KeySpec === 'AES_128') return 16;
  if (typeof request.NumberOfBytes === 'number' && request.NumberOfBytes >= 1 && request.NumberOfBytes <= 1024) {
    return request.NumberOfBytes;
  }
  throw new KmsFault('ValidationException', 'Please specify either number of bytes or key spec.');
}

/** Decrypt's KeyId check: the blob's key must be the one the caller named. */
function checkNamedKey(vault: KeyVault, named: unknown, actual: EmulatedKey): void {
  if (named === undefined || named === null) return;
  if (vault.resolve(named).keyId !== actual.keyId) {
    throw new KmsFault(
      'IncorrectKeyException',
      'The key ID in the request does not identify a KMS key that can perform this operation.',
    );
  }
}

const handlers: Record<KmsOperation, Handler> = {
  CreateKey: (vault, request) => {
    const key = vault.createKey({
      description: typeof request.Description === 'string' ? request.Description : undefined,
      multiRegion: request.MultiRegion === true,
    });
    return { KeyMetadata: keyMetadata(key, vault.accountId) };
  },
  CreateAlias: (vault, request) => {
    vault.setAlias(request.AliasName, request.TargetKeyId, 'create');
    return {};
  },
  UpdateAlias: (vault, request) => {
    vault.setAlias(request.AliasName, request.TargetKeyId, 'update');
    return {};
  },
  DescribeKey: (vault, request) => ({ KeyMetadata: keyMetadata(vault.resolve(request.KeyId), vault.accountId) }),
  Encrypt: (vault, request) => {
    const key = vault.usable(request.KeyId);
    return {
      CiphertextBlob: vault.encrypt(key, blob(request, 'Plaintext'), context(request)).toString('base64'),
      KeyId: key.arn,
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  },
  Decrypt: (vault, request) => {
    const ciphertext = blob(request, 'CiphertextBlob');
    checkNamedKey(vault, request.KeyId, vault.keyOf(ciphertext));
    const { key, plaintext } = vault.decrypt(ciphertext, context(request));
    return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  },
  GenerateDataKey: (vault, request) => {
    const key = vault.usable(request.KeyId);
    const plaintext = randomBytes(dataKeyLength(request));
    return {
      CiphertextBlob: vault.encrypt(key, plaintext, context(request)).toString('base64'),
      Plaintext: plaintext.toString('base64'),
      KeyId: key.arn,
    };
  },
  ReEncrypt: (vault, request) => {
    const ciphertext = blob(request, 'CiphertextBlob');
    checkNamedKey(vault, request.SourceKeyId, vault.keyOf(ciphertext));
    const destination = vault.usable(request.DestinationKeyId);
    const { key: source, plaintext } = vault.decrypt(ciphertext, context(request, 'SourceEncryptionContext'));
    return {
      CiphertextBlob: vault
        .encrypt(destination, plaintext, context(request, 'DestinationEncryptionContext'))
        .toString('base64'),
      SourceKeyId: source.arn,
      KeyId: destination.arn,
      SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  },
  EnableKeyRotation: (vault, request) => {
    vault.usable(request.KeyId).rotationEnabled = true;
    return {};
  },
  RotateKeyOnDemand: (vault, request) => {
    const key = vault.usable(request.KeyId);
    vault.rotate(key);
    return { KeyId: key.keyId };
  },
  DisableKey: (vault, request) => {
    const key = vault.resolve(request.KeyId);
    if (key.state === 'PendingDeletion')
      throw new KmsFault('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    key.state = 'Disabled';
    return {};
  },
  EnableKey: (vault, request) => {
    const key = vault.resolve(request.KeyId);
    if (key.state === 'PendingDeletion')
      throw new KmsFault('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    key.state = 'Enabled';
    return {};
  },
  ScheduleKeyDeletion: (vault, request) => {
    const key = vault.resolve(request.KeyId);
    const days = request.PendingWindowInDays ?? 30;
    if (typeof days !== 'number' || days < 7 || days > 30) {
      throw new KmsFault('ValidationException', 'PendingWindowInDays must be between 7 and 30');
    }
    key.state = 'PendingDeletion';
    key.deletionDate = new Date(Date.now() + days * 86_400_000);
    return {
      KeyId: key.arn,
      DeletionDate: key.deletionDate.getTime() / 1000,
      KeyState: 'PendingDeletion',
      PendingWindowInDays: days,
    };
  },
};

/** Whether `name` is an operation this emulator implements. */
export function isKmsOperation(name: string): name is KmsOperation {
  return (KMS_OPERATIONS as readonly string[]).includes(name);
}

/** Runs one operation against the vault. */
export function runOperation(vault: KeyVault, operation: KmsOperation, request: Body): Body {
  return handlers[operation](vault, request);
}
