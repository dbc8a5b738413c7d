/**
 * What a decrypt thread does with its share of a large `FieldCrypto.decryptMany` call (see
 * `parallel-decrypt.ts`): it opens the values it can, each exactly as the calling thread's pass
 * would (same parser, associated data, scope check and ciphers), and reports every other value
 * as not opened, for the calling thread to decrypt again with its own rules (typed errors,
 * counters, audit). It never decides a failure: a value it cannot open costs a second try, not
 * a weaker check. Plain data in and out, so a job crosses threads as a structured clone.
 */
import { Buffer } from 'node:buffer';
import { KEY_BYTES } from './aead';
import { valueAad, type ValueKind } from './associated-data';
import { HeaderMemo, parseEnvelope, scopeKeyId, type ParsedEnvelope } from './envelope';
import { checkContext, checkRowScope, type FieldContext } from './row-encryptor';
import { decodeUtf8 } from './utf8';
import { openValue, unwrapDek } from './value-cipher';

/**
 * Text values to open, as parallel arrays (an array of strings clones far faster than an object
 * per value), and the scope keys they may need: `keyBytes` holds `KEY_BYTES` per id of
 * `keyIds`, is transferred, not copied, and is zeroed by {@link openJob}.
 */
export interface OpenJob {
  readonly values: string[];
  readonly models: string[];
  readonly fields: string[];
  readonly rowIds: (string | null)[];
  /** The row's scope when the caller names it (`FieldContext.scope`). */
  readonly scopes: (string | null)[];
  /** `json` or `null` (a `String`); other kinds stay on the calling thread. */
  readonly kinds: (ValueKind | null)[];
  /** Scope key version ids (`scopeKeyId`), their scopes when known, and their bytes. */
  readonly keyIds: string[];
  readonly keyScopes: (string | null)[];
  readonly keyBytes: ArrayBuffer;
}

/**
 * Each value's text, or `null` where it did not open here; and the DEKs unwrapped (one each
 * time the DEK id changes from one value to the next, so once per row of consecutive values;
 * `KEY_BYTES` each in `deks`, named by `dekIds`) for the caller's DEK cache. `deks` is
 * transferred to the caller, who zeroes it.
 */
export interface OpenResult {
  readonly plain: (string | null)[];
  readonly dekIds: string[];
  readonly deks: ArrayBuffer;
}

/** Sealed values and associated data are built in these, one value at a time (ciphertext and names only). */
const sealedScratch = Buffer.allocUnsafe(16 * 1024);
const aadScratch = Buffer.allocUnsafe(2048);

/**
 * Opens what it can of `job` and zeroes the job's keys and every DEK it held before it returns
 * (the DEKs it unwrapped are returned, copied into one new buffer). Never throws for a bad
 * value: that value is `null` in the result.
 */
export function openJob(job: OpenJob): OpenResult {
  const keyBytes = Buffer.from(job.keyBytes);
  const keys = new Map<string, { key: Buffer; scope: string | null }>();
  for (let k = 0; k < job.keyIds.length; k++) {
    keys.set(job.keyIds[k], {
      key: keyBytes.subarray(k * KEY_BYTES, (k + 1) * KEY_BYTES),
      scope: job.keyScopes[k],
    });
  }
  const count = job.values.length;
  const plain: (string | null)[] = new Array(count).fill(null);
  const dekIds: string[] = [];
  const deks: Buffer[] = [];
  const memo = new HeaderMemo(sealedScratch);
  let lastDekId: string | undefined;
  let dek: Buffer | null = null;
  let keyScope: string | null = null;
  try {
    for (let j = 0; j < count; j++) {
      try {
        const ctx = contextOf(job, j);
        const envelope = parseEnvelope(job.values[j], memo);
        if (envelope.dekId !== lastDekId) {
          lastDekId = envelope.dekId;
          const entry = keys.get(scopeKeyId(envelope.keyId, envelope.version));
          keyScope = entry?.scope ?? null;
          dek = entry === undefined ? null : unwrapDek(entry.key, envelope);
          if (dek !== null) {
            dekIds.push(envelope.dekId);
            deks.push(dek);
          }
        }
        // A key whose scope is not known here, or is another scope's, is the caller's to judge.
        if (dek === null || (ctx.scope !== undefined && ctx.scope !== keyScope)) continue;
        plain[j] = open(dek, envelope, ctx);
      } catch {
        // Malformed value or context: left for the calling thread, which reports it typed.
      }
    }
    return { plain, dekIds, deks: packed(deks) };
  } finally {
    keyBytes.fill(0);
    for (const each of deks) each.fill(0);
  }
}

/** The context of value `j`, checked as the calling thread checks it. @throws InvalidArgumentError */
function contextOf(job: OpenJob, j: number): FieldContext {
  const rowId = job.rowIds[j];
  const kind = job.kinds[j];
  const ctx: FieldContext = {
    model: job.models[j],
    field: job.fields[j],
    ...(rowId === null ? {} : { rowId }),
    ...(kind === null ? {} : { kind }),
  };
  checkContext(ctx);
  const scope = job.scopes[j];
  if (scope !== null) {
    ctx.scope = scope;
    checkRowScope(ctx);
  }
  return ctx;
}

/** The value's text, or `null` when it fails to authenticate. */
function open(dek: Buffer, envelope: ParsedEnvelope, ctx: FieldContext): string | null {
  const aad = valueAad(envelope.keyId, envelope.version, ctx.model, ctx.field, ctx.rowId, ctx, aadScratch);
  const bytes = openValue(dek, envelope, aad);
  if (bytes === null) return null;
  const text = decodeUtf8(bytes);
  bytes.fill(0);
  return text;
}

/** The DEKs copied into one new buffer, to transfer (the caller zeroes it and the originals). */
function packed(deks: readonly Buffer[]): ArrayBuffer {
  const out = new Uint8Array(new ArrayBuffer(deks.length * KEY_BYTES));
  for (let d = 0; d < deks.length; d++) out.set(deks[d], d * KEY_BYTES);
  return out.buffer;
}
