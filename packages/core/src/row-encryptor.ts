/**
 * One row write: a fresh random DEK (from the pooled CSPRNG), wrapped once under the scope key, then used for every
 * encrypted field of that row. The envelope header (prefix, key id, version, wrapped DEK) is
 * built once and shared by the row's values.
 */
import { Buffer } from 'node:buffer';
import { inspect } from 'node:util';
import { KEY_BYTES, randomNonce, sealParts, TAG_BYTES } from './aead';
import { KIND_TAGS, valueAad, type ValueType } from './associated-data';
import { binaryHeader } from './binary-envelope';
import { dekId, envelopeHeader, MAX_PLAINTEXT_BYTES } from './envelope';
import type { KeyMaterial } from './key-hierarchy';
import { messages } from './messages';
import { needs } from './preconditions';
import { randomSecret } from './random-pool';
import { encodeUtf8 } from './utf8';
import { appendSealedValue, wrapDek } from './value-cipher';
import { countEncrypted } from './telemetry';

/**
 * Database names (`@@map`/`@map`) of where a value lives; `rowId` is bound into the AD when
 * present, and so is the value's type (`kind`; absent for `String` text; with `index` and
 * `count` for the element of a string list): a value sealed as one type never opens as another.
 */
export interface FieldContext extends ValueType {
  model: string;
  field: string;
  rowId?: string;
  /**
   * On decrypt only (encrypt ignores it): the scope of the row the value was read from. A
   * value sealed under another scope's key then fails with `DecryptionError` instead of
   * opening: a value copied from another tenant's row, or a row whose scope column was changed
   * outside the extension. Not part of the associated data (the scope key id is).
   */
  scope?: string;
}

/** Encrypts the fields of one row write under one fresh DEK. */
export interface RowEncryptor {
  readonly keyId: string;
  readonly version: number;
  readonly scope: string;
  /**
   * Encrypts one field's plaintext into an envelope string. Synchronous. `ctx.kind` says what
   * the text is (absent for a `String`, `json` for serialized JSON, `list` for a list element).
   */
  encrypt(plaintext: string, ctx: FieldContext): string;
  /**
   * Encrypts bytes into a binary envelope (binary-envelope.ts) under the row's DEK, bound as
   * `bytes` (`ctx.kind` must be absent or `bytes`). Synchronous; `bytes` is not modified.
   */
  encryptBytes(bytes: Uint8Array, ctx: FieldContext): Buffer;
  /** Zeroes the DEK; later `encrypt` calls throw. */
  dispose(): void;
}

/** Checks a field context. @throws InvalidArgumentError naming the bad property */
export function checkContext(ctx: FieldContext): void {
  needs(ctx !== null && typeof ctx === 'object', 'ctx', 'must be an object');
  needs(
    typeof ctx.model === 'string' && ctx.model.length > 0 && ctx.model.length <= 255,
    'ctx.model',
    'must be a string of 1 to 255 characters',
  );
  needs(
    typeof ctx.field === 'string' && ctx.field.length > 0 && ctx.field.length <= 255,
    'ctx.field',
    'must be a string of 1 to 255 characters',
  );
  needs(
    ctx.rowId === undefined || (typeof ctx.rowId === 'string' && ctx.rowId.length <= 1024),
    'ctx.rowId',
    'must be a string of at most 1024 characters when given',
  );
  const { kind, index, count } = ctx;
  if (kind === undefined && index === undefined && count === undefined) return;
  needs(
    kind === undefined || Object.hasOwn(KIND_TAGS, kind),
    'ctx.kind',
    "must be 'json', 'bytes' or 'list' when given",
  );
  if (kind === 'list') {
    needs(Number.isSafeInteger(count) && count! >= 1 && count! <= 0xffffffff, 'ctx.count', 'must be the list length');
    needs(Number.isSafeInteger(index) && index! >= 0 && index! < count!, 'ctx.index', 'must be a position in the list');
  } else {
    needs(index === undefined && count === undefined, 'ctx.index', "is only given for kind 'list'");
  }
}

/**
 * Checks a read's `ctx.scope` when given (apart from {@link checkContext}, which every value
 * passes through: V8 compiles that one smaller without it). @throws InvalidArgumentError
 */
export function checkRowScope(ctx: FieldContext): void {
  needs(typeof ctx.scope === 'string' && ctx.scope.length > 0, 'ctx.scope', 'must be a non-empty string when given');
}

/** Checks bytes to encrypt: a Uint8Array of at most {@link MAX_PLAINTEXT_BYTES}. @throws InvalidArgumentError */
export function checkBytes(value: unknown, argument: string): asserts value is Uint8Array {
  needs(value instanceof Uint8Array, argument, 'must be a Uint8Array');
  needs(value.byteLength <= MAX_PLAINTEXT_BYTES, argument, `must be at most ${MAX_PLAINTEXT_BYTES} bytes`);
}

/**
 * Checks a value to encrypt or to look up, before any key is fetched: a string, well-formed
 * UTF-16 (a lone surrogate would become U+FFFD in UTF-8, so a lookup would match rows holding
 * U+FFFD), at most {@link MAX_PLAINTEXT_BYTES} bytes of UTF-8. The message never holds the value.
 * @param argument - what to name in the error, e.g. `'User.email'`
 * @throws InvalidArgumentError naming `argument`
 * @example checkPlaintext(data.email, 'User.email');
 */
export function checkPlaintext(value: unknown, argument: string): asserts value is string {
  needs(typeof value === 'string', argument, 'must be a string');
  needs(
    (value as unknown as { isWellFormed(): boolean }).isWellFormed(),
    argument,
    'must be well-formed UTF-16 (it has a lone surrogate, which UTF-8 cannot carry)',
  );
  // A UTF-16 code unit is at most 3 UTF-8 bytes: most values need no byte count.
  needs(
    value.length * 3 <= MAX_PLAINTEXT_BYTES || Buffer.byteLength(value, 'utf8') <= MAX_PLAINTEXT_BYTES,
    argument,
    `must be at most ${MAX_PLAINTEXT_BYTES} bytes of UTF-8`,
  );
}

/** Test hooks: fixed DEK and nonces make envelopes reproducible (golden vectors). Never in production. */
export interface UnsafeDeterminism {
  readonly dek: Buffer;
  /** Called for the DEK-wrap nonce first, then once per encrypted value. */
  readonly nonce: () => Buffer;
}

/** A DEK not used yet and its wrap under the scope key (binary and base64url). */
export interface FreshDek {
  readonly dek: Buffer;
  readonly wrapped: Buffer;
  readonly wrappedText: string;
}

/**
 * Draws a fresh random DEK and wraps it under `material`'s key (whose key it does not keep).
 * @param nonce the wrap's nonce; a fresh random one unless a test fixes it
 */
export function freshDek(
  material: KeyMaterial,
  dek: Buffer = randomSecret(KEY_BYTES),
  nonce: Buffer = randomNonce(),
): FreshDek {
  const wrapped = wrapDek(material.key, material.keyId, material.version, dek, nonce);
  return { dek, wrapped, wrappedText: wrapped.toString('base64url') };
}

/** Receives a copy of a new row's DEK and its DEK-cache id, so reading the row back skips the unwrap. */
export type DekRegistrar = (dekCacheId: string, dek: Buffer) => void;

const BYTES: ValueType = { kind: 'bytes' };

class Encryptor implements RowEncryptor {
  readonly keyId: string;
  readonly version: number;
  readonly scope: string;
  #dek: Buffer | null;
  readonly #header: string;
  readonly #wrapped: Buffer;
  #binaryHeader: Buffer | undefined;
  readonly #nonce: () => Buffer;

  constructor(
    owner: { keyId: string; version: number; scope: string },
    fresh: FreshDek,
    nonce: () => Buffer,
    register?: DekRegistrar,
  ) {
    this.keyId = owner.keyId;
    this.version = owner.version;
    this.scope = owner.scope;
    this.#dek = fresh.dek;
    this.#nonce = nonce;
    this.#wrapped = fresh.wrapped;
    this.#header = envelopeHeader(owner.keyId, owner.version) + fresh.wrappedText + '$';
    register?.(dekId(owner.keyId, owner.version, fresh.wrappedText), Buffer.from(fresh.dek));
  }

  encrypt(plaintext: string, ctx: FieldContext): string {
    const dek = this.#dek;
    needs(dek !== null, 'rowEncryptor', messages.encryptorDisposed());
    checkPlaintext(plaintext, 'plaintext');
    checkContext(ctx);
    needs(ctx.kind !== 'bytes', 'ctx.kind', "'bytes' values are encrypted with encryptBytes");
    const bytes = encodeUtf8(plaintext);
    const aad = valueAad(this.keyId, this.version, ctx.model, ctx.field, ctx.rowId, ctx);
    const envelope = appendSealedValue(this.#header, dek, bytes, aad, this.#nonce());
    bytes.fill(0);
    countEncrypted(ctx.model, ctx.field);
    return envelope;
  }

  encryptBytes(bytes: Uint8Array, ctx: FieldContext): Buffer {
    const dek = this.#dek;
    needs(dek !== null, 'rowEncryptor', messages.encryptorDisposed());
    checkBytes(bytes, 'bytes');
    checkContext(ctx);
    needs(ctx.kind === undefined || ctx.kind === 'bytes', 'ctx.kind', "must be 'bytes' (or absent) for bytes");
    const aad = valueAad(this.keyId, this.version, ctx.model, ctx.field, ctx.rowId, BYTES);
    const nonce = this.#nonce();
    const plain = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const { ciphertext, tag } = sealParts(dek, plain, aad, nonce);
    const header = (this.#binaryHeader ??= binaryHeader(this.keyId, this.version, this.#wrapped));
    const envelope = Buffer.concat(
      [header, nonce, ciphertext, tag],
      header.length + nonce.length + ciphertext.length + TAG_BYTES,
    );
    countEncrypted(ctx.model, ctx.field);
    return envelope;
  }

  dispose(): void {
    this.#dek?.fill(0);
    this.#dek = null;
  }

  toJSON(): object {
    return { keyId: this.keyId, version: this.version, scope: this.scope };
  }

  [inspect.custom](): string {
    return `RowEncryptor ${inspect(this.toJSON())}`;
  }
}

/**
 * A row encryptor under `material` (whose key it does not keep). Takes `prepared` (a fresh DEK
 * wrapped under the same key version, which it now owns) when given, else a fresh random DEK,
 * unless `unsafeDeterminism` (tests only) fixes it.
 */
export function createRowEncryptor(
  material: KeyMaterial,
  unsafeDeterminism?: UnsafeDeterminism,
  register?: DekRegistrar,
  prepared?: FreshDek,
): RowEncryptor {
  if (unsafeDeterminism !== undefined) {
    const { dek, nonce } = unsafeDeterminism;
    return new Encryptor(material, freshDek(material, Buffer.from(dek), nonce()), nonce, register);
  }
  return new Encryptor(material, prepared ?? freshDek(material), randomNonce, register);
}
