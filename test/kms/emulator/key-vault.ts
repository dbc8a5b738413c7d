/**
 * The emulated KMS's state: keys with versioned AES-256 material, aliases, key states, and the
 * symmetric encryption itself (AES-256-GCM from node:crypto, encryption context as AAD).
 * Errors are thrown as {@link KmsFault} carrying the AWS error name and HTTP status.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';

/** An AWS-shaped error: `__type`, message and HTTP status of the KMS JSON protocol. */
export class KmsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
    this.name = 'KmsFault';
  }
}

/** Key states this emulator models. */
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

/** One emulated KMS key. `materials[i]` is material version i; the last one encrypts. */
export interface EmulatedKey {
  readonly keyId: string;
  readonly arn: string;
  readonly description: string;
  readonly multiRegion: boolean;
  readonly creationDate: Date;
  state: KeyState;
  rotationEnabled: boolean;
  deletionDate?: Date;
  readonly materials: Buffer[];
}

/** Ciphertext blob layout: format(1) idLen(1) id matVersion(4) iv(12) ciphertext tag(16). */
const BLOB_FORMAT = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Real KMS limits: 4096-byte plaintext, 6144-byte ciphertext blob. */
export const MAX_PLAINTEXT_BYTES = 4096;
const MAX_BLOB_BYTES = 6144;
const MAX_KEY_ID_BYTES = 64;

/** Encryption context → AAD: sorted so that key order in the request does not matter. */
export function canonicalContext(context: Record<string, string> | undefined): Buffer {
  const entries = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

/** Keys and aliases of one emulated Region and account. */
export class KeyVault {
  private readonly keys = new Map<string, EmulatedKey>();
  private readonly aliases = new Map<string, string>();

  constructor(
    readonly region: string,
    readonly accountId: string,
  ) {}

  /** CreateKey: a new enabled symmetric key with one material version. */
  createKey(options: { description?: string; multiRegion?: boolean } = {}): EmulatedKey {
    const bare = randomUUID().replace(/-/g, '');
    const keyId = options.multiRegion ? `mrk-${bare}` : randomUUID();
    const key: EmulatedKey = {
      keyId,
      arn: `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`,
      description: options.description ?? '',
      multiRegion: options.multiRegion === true,
      creationDate: new Date(),
      state: 'Enabled',
      rotationEnabled: false,
      materials: [randomBytes(32)],
    };
    this.keys.set(keyId, key);
    return key;
  }

  /** Adds a copy of `key` (same id and material) as a replica in this Region. */
  importReplica(key: EmulatedKey): EmulatedKey {
    const replica: EmulatedKey = {
      ...key,
      arn: `arn:aws:kms:${this.region}:${this.accountId}:key/${key.keyId}`,
      materials: key.materials,
    };
    this.keys.set(key.keyId, replica);
    return replica;
  }

  /** Resolves a key id, key ARN, alias name or alias ARN (any state). */
  resolve(keyIdOrAlias: unknown): EmulatedKey {
    if (typeof keyIdOrAlias !== 'string' || keyIdOrAlias.length === 0 || keyIdOrAlias.length > 2048) {
      throw new KmsFault(
        'ValidationException',
        "1 validation error detected: Value at 'keyId' failed to satisfy constraint",
      );
    }
    let reference = keyIdOrAlias;
    if (reference.startsWith('arn:')) {
      const parts = reference.split(':');
      const resource = parts.slice(5).join(':');
      if (parts.length < 6 || parts[2] !== 'kms' || parts[3] !== this.region || parts[4] !== this.accountId) {
        throw new KmsFault('NotFoundException', `Invalid arn ${reference}`);
      }
      reference = resource.startsWith('key/') ? resource.slice('key/'.length) : resource;
    }
    if (reference.startsWith('alias/')) {
      const target = this.aliases.get(reference);
      if (target === undefined)
        throw new KmsFault('NotFoundException', `Alias ${this.aliasArn(reference)} is not found.`);
      reference = target;
    }
    const key = this.keys.get(reference);
    if (!key) throw new KmsFault('NotFoundException', `Key '${this.keyArn(reference)}' does not exist`);
    return key;
  }

  /** Resolves a key that must be usable for cryptographic operations. */
  usable(keyIdOrAlias: unknown): EmulatedKey {
    const key = this.resolve(keyIdOrAlias);
    assertUsable(key);
    return key;
  }

  /** CreateAlias (`create`) or UpdateAlias. */
  setAlias(aliasName: unknown, targetKeyId: unknown, mode: 'create' | 'update'): void {
    if (typeof aliasName !== 'string' || !aliasName.startsWith('alias/') || aliasName.startsWith('alias/aws/')) {
      throw new KmsFault('ValidationException', 'Alias must start with the prefix "alias/" and not "alias/aws/".');
    }
    const exists = this.aliases.has(aliasName);
    if (mode === 'create' && exists)
      throw new KmsFault('AlreadyExistsException', `An alias with the name ${this.aliasArn(aliasName)} already exists`);
    if (mode === 'update' && !exists)
      throw new KmsFault('NotFoundException', `Alias ${this.aliasArn(aliasName)} is not found.`);
    if (typeof targetKeyId === 'string' && targetKeyId.startsWith('alias/')) {
      throw new KmsFault('ValidationException', 'TargetKeyId must be a key id or key ARN');
    }
    this.aliases.set(aliasName, this.resolve(targetKeyId).keyId);
  }

  /** Encrypts under the key's newest material, binding the encryption context. */
  encrypt(key: EmulatedKey, plaintext: Buffer, context: Record<string, string> | undefined): Buffer {
    if (plaintext.length === 0 || plaintext.length > MAX_PLAINTEXT_BYTES) {
      throw new KmsFault('ValidationException', 'Plaintext must be between 1 and 4096 bytes');
    }
    const materialVersion = key.materials.length - 1;
    const id = Buffer.from(key.keyId, 'ascii');
    const header = Buffer.alloc(2 + id.length + 4);
    header[0] = BLOB_FORMAT;
    header[1] = id.length;
    id.copy(header, 2);
    header.writeUInt32BE(materialVersion, 2 + id.length);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.materials[materialVersion], iv);
    cipher.setAAD(Buffer.concat([header, canonicalContext(context)]));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, iv, body, cipher.getAuthTag()]);
  }

  /** Parses a ciphertext blob and names the key it was made under (any state). */
  keyOf(blob: Buffer): EmulatedKey {
    const parsed = parseBlob(blob);
    const key = this.keys.get(parsed.keyId);
    if (!key) throw invalidCiphertext();
    return key;
  }

  /** Decrypts a blob with the key it names, checking the encryption context. */
  decrypt(blob: Buffer, context: Record<string, string> | undefined): { key: EmulatedKey; plaintext: Buffer } {
    const parsed = parseBlob(blob);
    const key = this.keys.get(parsed.keyId);
    if (!key) throw invalidCiphertext();
    assertUsable(key);
    const material = key.materials[parsed.materialVersion];
    if (!material) throw invalidCiphertext();
    try {
      const decipher = createDecipheriv('aes-256-gcm', material, parsed.iv);
      decipher.setAAD(Buffer.concat([parsed.header, canonicalContext(context)]));
      decipher.setAuthTag(parsed.tag);
      return { key, plaintext: Buffer.concat([decipher.update(parsed.body), decipher.final()]) };
    } catch {
      throw invalidCiphertext();
    }
  }

  /** RotateKeyOnDemand: new material for new encryptions; old versions keep decrypting. */
  rotate(key: EmulatedKey): void {
    key.materials.push(randomBytes(32));
  }

  /** Every key of this vault (for replicas and tests). */
  list(): EmulatedKey[] {
    return [...this.keys.values()];
  }

  private keyArn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
  }

  private aliasArn(alias: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:${alias}`;
  }
}

/** KeyMetadata as DescribeKey/CreateKey return it (timestamps as epoch seconds). */
export function keyMetadata(key: EmulatedKey, accountId: string): Record<string, unknown> {
  return {
    AWSAccountId: accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: key.creationDate.getTime() / 1000,
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeyState: key.state,
    KeyManager: 'CUSTOMER',
    Origin: 'AWS_KMS',
    MultiRegion: key.multiRegion,
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    ...(key.deletionDate ? { DeletionDate: key.deletionDate.getTime() / 1000 } : {}),
  };
}

function assertUsable(key: EmulatedKey): void {
  if (key.state === 'Disabled') throw new KmsFault('DisabledException', `${key.arn} is disabled.`);
  if (key.state === 'PendingDeletion')
    throw new KmsFault('KMSInvalidStateException', `${key.arn} is pending deletion.`);
}

function invalidCiphertext(): KmsFault {
  return new KmsFault('InvalidCiphertextException', '');
}

interface ParsedBlob {
  header: Buffer;
  keyId: string;
  materialVersion: number;
  iv: Buffer;
  body: Buffer;
  tag: Buffer;
}

function parseBlob(blob: Buffer): ParsedBlob {
  if (blob.length < 2 || blob.length > MAX_BLOB_BYTES || blob[0] !== BLOB_FORMAT) throw invalidCiphertext();
  const idLength = blob[1];
  if (idLength === 0 || idLength > MAX_KEY_ID_BYTES) throw invalidCiphertext();
  const headerLength = 2 + idLength + 4;
  if (blob.length < headerLength + IV_BYTES + TAG_BYTES + 1) throw invalidCiphertext();
  const header = blob.subarray(0, headerLength);
  return {
    header,
    keyId: blob.subarray(2, 2 + idLength).toString('ascii'),
    materialVersion: blob.readUInt32BE(2 + idLength),
    iv: blob.subarray(headerLength, headerLength + IV_BYTES),
    body: blob.subarray(headerLength + IV_BYTES, blob.length - TAG_BYTES),
    tag: blob.subarray(blob.length - TAG_BYTES),
  };
}
