/**
 * What a decrypt thread does with its share of a large `FieldCrypto.decryptMany` call (see
 * `parallel-decrypt.ts`): it opens the values it can, each exactly as the calling thread's pass
 * would (same parser, associated data, scope check and ciphers), and reports every other value
 * as not opened, for the calling thread to decrypt again with its own rules (typed errors,
 * counters, audit). It never decides a failure: a value it cannot open costs a second try, not
 * a weaker check. Plain data in and out: a job's arrays cross threads as a structured clone, its
 * two buffers are shared (`SharedArrayBuffer`), so the calling thread can zero them whatever
 * becomes of the thread.
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
 * per value), the scope keys they may need, and where the DEKs unwrapped go. Both buffers are
 * shared, not copied: the calling thread allocates them, keeps them, and zeroes them when the
 * job is over for it, whatever became of the thread (which also zeroes the keys when it is done).
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
  /** Scope key version ids (`scopeKeyId`), their scopes when known, and their bytes (`KEY_BYTES` each). */
  readonly keyIds: string[];
  readonly keyScopes: (string | null)[];
  readonly keyBytes: SharedArrayBuffer;
  /**
   * `KEY_BYTES` per value (no job unwraps more DEKs than it has values): slot `d` receives the
   * DEK named by the result's `dekIds[d]`.
   */
  readonly dekBytes: SharedArrayBuffer;
}

/**
 * Each value's text, or `null` where it did not open here; and the ids of the DEKs unwrapped
 * (one each time the DEK id changes from one value to the next, so once per row of consecutive
 * values), whose bytes are in the job's `dekBytes`, for the caller's DEK cache.
 */
export interface OpenResult {
  readonly plain: (string | null)[];
  readonly dekIds: string[];
}

/** Sealed values and associated data are built in these, one value at a time (ciphertext and names only). */
const sealedScratch = Buffer.allocUnsafe(16 * 1024);
const aadScratch = Buffer.allocUnsafe(2048);

/**
 * Opens what it can of `job`, writing each DEK it unwraps into the job's `dekBytes` (its own copy
 * zeroed at once; values are opened under the shared copy), and zeroes the job's keys before it
 * returns. Never throws for a bad value: that value is `null` in the result.
 */
export function openJob(job: OpenJob): OpenResult {
  const keyBytes = Buffer.from(job.keyBytes);
  const dekBytes = Buffer.from(job.dekBytes);
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
          dek = null;
          const entry = keys.get(scopeKeyId(envelope.keyId, envelope.version));
          keyScope = entry?.scope ?? null;
          const unwrapped = entry === undefined ? null : unwrapDek(entry.key, envelope);
          // Room for one DEK per value: only a malformed job runs out (its values left to the caller).
          const at = dekIds.length * KEY_BYTES;
          if (unwrapped !== null && at + KEY_BYTES <= dekBytes.length) {
            dek = dekBytes.subarray(at, at + KEY_BYTES);
            dek.set(unwrapped);
            dekIds.push(envelope.dekId);
          }
          unwrapped?.fill(0);
        }
        // A key whose scope is not known here, or is another scope's, is the caller's to judge.
        if (dek === null || (ctx.scope !== undefined && ctx.scope !== keyScope)) continue;
        plain[j] = open(dek, envelope, ctx);
      } catch {
        // Malformed value or context: left for the calling thread, which reports it typed.
      }
    }
    return { plain, dekIds };
  } finally {
    keyBytes.fill(0);
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
