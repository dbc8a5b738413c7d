/**
 * OpenTelemetry traces and metrics through `@opentelemetry/api` only: the application installs
 * an SDK (or none, and every call here is a no-op). One tracer and one meter, both named
 * `hushfield`. Attributes name operations, keyrings, key ids and versions, models, fields and
 * error codes: never a plaintext, a key, a wrapped key, an index value or a scope (a scope is
 * often a tenant or user id; audit events carry it, telemetry does not).
 *
 * Metrics (see docs/operating.md):
 * - `hushfield.keyring.duration` (histogram, ms; operation, keyring, outcome)
 * - `hushfield.keyring.errors` (counter; operation, keyring, error.code)
 * - `hushfield.decrypt.failures` (counter; error.code, model, field)
 * - `hushfield.values.encrypted`, `hushfield.values.decrypted` (counters; model, field)
 * - `hushfield.key_cache.hits|misses`, `hushfield.dek_cache.hits|misses`, `hushfield.keyring.calls`
 *   (observable counters), `hushfield.key_cache.entries` (observable gauge); attribute
 *   `hushfield.instance` numbers each `FieldCrypto` of the process
 * - `hushfield.audit.dropped` (counter; sink): audit events a sink dropped (queue full, write failed)
 */
import {
  metrics,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  type Span,
} from '@opentelemetry/api';

/** Name of the tracer and meter. */
export const TELEMETRY_NAME = 'hushfield';

/** What telemetry reads from a `FieldCrypto` (its counters). */
export interface CacheCounterSource {
  stats(): { hits: number; misses: number; keyringCalls: number; entries: number; dekHits: number; dekMisses: number };
}

interface Instruments {
  keyringDuration: Histogram;
  keyringErrors: Counter;
  decryptFailures: Counter;
  auditDropped: Counter;
}

/**
 * Values encrypted and decrypted per (model, field), counted here and reported by observable
 * counters: a per-value `Counter.add` costs microseconds under an SDK (attribute hashing),
 * comparable to the decryption itself; an increment costs nanoseconds.
 */
interface FieldCounts {
  readonly attributes: Attributes;
  encrypted: number;
  decrypted: number;
}

let provider: MeterProvider | undefined;
let current: Instruments | undefined;
let nextInstance = 1;
/** Weakly held, so telemetry never keeps a `FieldCrypto` (and its cached keys) alive. */
const sources = new Set<{ ref: WeakRef<CacheCounterSource>; id: number }>();

/** Instruments of the meter provider installed now (an SDK may be installed after this module loads). */
function instruments(): Instruments {
  const installed = metrics.getMeterProvider();
  if (current !== undefined && installed === provider) return current;
  provider = installed;
  const meter = installed.getMeter(TELEMETRY_NAME);
  const cacheObservables = {
    keyHits: meter.createObservableCounter('hushfield.key_cache.hits', { description: 'Key cache hits' }),
    keyMisses: meter.createObservableCounter('hushfield.key_cache.misses', { description: 'Key cache misses' }),
    entries: meter.createObservableGauge('hushfield.key_cache.entries', { description: 'Keys cached' }),
    keyringCalls: meter.createObservableCounter('hushfield.keyring.calls', { description: 'Keyring (KMS) calls' }),
    dekHits: meter.createObservableCounter('hushfield.dek_cache.hits', { description: 'DEK cache hits' }),
    dekMisses: meter.createObservableCounter('hushfield.dek_cache.misses', { description: 'DEK cache misses' }),
  };
  const values = {
    encrypted: meter.createObservableCounter('hushfield.values.encrypted', { description: 'Values encrypted' }),
    decrypted: meter.createObservableCounter('hushfield.values.decrypted', { description: 'Values decrypted' }),
  };
  meter.addBatchObservableCallback((result) => {
    for (const counts of fieldCounts.values()) {
      if (counts.encrypted > 0) result.observe(values.encrypted, counts.encrypted, counts.attributes);
      if (counts.decrypted > 0) result.observe(values.decrypted, counts.decrypted, counts.attributes);
    }
  }, Object.values(values));
  meter.addBatchObservableCallback((result) => {
    for (const source of sources) {
      const crypto = source.ref.deref();
      if (crypto === undefined) {
        sources.delete(source);
        continue;
      }
      const stats = crypto.stats();
      const attributes = { 'hushfield.instance': source.id };
      result.observe(cacheObservables.keyHits, stats.hits, attributes);
      result.observe(cacheObservables.keyMisses, stats.misses, attributes);
      result.observe(cacheObservables.entries, stats.entries, attributes);
      result.observe(cacheObservables.keyringCalls, stats.keyringCalls, attributes);
      result.observe(cacheObservables.dekHits, stats.dekHits, attributes);
      result.observe(cacheObservables.dekMisses, stats.dekMisses, attributes);
    }
  }, Object.values(cacheObservables));
  current = {
    keyringDuration: meter.createHistogram('hushfield.keyring.duration', {
      unit: 'ms',
      description: 'Keyring call latency',
    }),
    keyringErrors: meter.createCounter('hushfield.keyring.errors', { description: 'Failed keyring calls' }),
    decryptFailures: meter.createCounter('hushfield.decrypt.failures', { description: 'Values not decrypted' }),
    auditDropped: meter.createCounter('hushfield.audit.dropped', { description: 'Audit events dropped by a sink' }),
  };
  return current;
}

/** Reports `source`'s cache counters as observable metrics while it lives. */
export function observeCaches(source: CacheCounterSource): void {
  sources.add({ ref: new WeakRef(source), id: nextInstance++ });
  instruments();
}

/** The typed error's `code`, or the error class name (never its message). */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown';
}

/**
 * Runs `run` inside an active span of the `hushfield` tracer; a failure sets the span's status
 * to error with the error's code (the message is not recorded: it may name a scope).
 * @example await inSpan('hushfield.cli.status', { 'hushfield.cli.command': 'status' }, () => status());
 */
export function inSpan<T>(name: string, attributes: Attributes, run: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer(TELEMETRY_NAME).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await run(span);
    } catch (error) {
      const code = errorCode(error);
      span.setAttribute('hushfield.error.code', code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** What identifies a key version in telemetry (no scope, no material). */
export interface KeyAttributes {
  readonly keyId: string;
  readonly kind: string;
  readonly version: number;
}

function keyAttributes(slot: KeyAttributes): Attributes {
  return { 'hushfield.key.id': slot.keyId, 'hushfield.key.kind': slot.kind, 'hushfield.key.version': slot.version };
}

/** A keyring call: span `hushfield.keyring.<operation>`, latency histogram, errors by code. */
export function keyringSpan<T>(
  keyringId: string,
  operation: string,
  slot: KeyAttributes,
  call: () => Promise<T>,
): Promise<T> {
  const base = { 'hushfield.keyring.operation': operation, 'hushfield.keyring.id': keyringId };
  return inSpan(`hushfield.keyring.${operation}`, { ...base, ...keyAttributes(slot) }, async () => {
    const started = performance.now();
    const meters = instruments();
    try {
      const result = await call();
      meters.keyringDuration.record(performance.now() - started, { ...base, 'hushfield.outcome': 'success' });
      return result;
    } catch (error) {
      meters.keyringDuration.record(performance.now() - started, { ...base, 'hushfield.outcome': 'failure' });
      meters.keyringErrors.add(1, { ...base, 'hushfield.error.code': errorCode(error) });
      throw error;
    }
  });
}

/** A key load on a cache miss (key-store read and unwrap): span `hushfield.key.load`. */
export function keyLoadSpan<T>(slot: KeyAttributes, load: () => Promise<T>): Promise<T> {
  return inSpan('hushfield.key.load', keyAttributes(slot), load);
}

/** Counts per (model, field); past the bound (a schema has far fewer), the rest share one entry. */
const fieldCounts = new Map<string, FieldCounts>();
const MAX_FIELDS = 4096;
const OTHER: FieldCounts = {
  attributes: { 'hushfield.model': '(other)', 'hushfield.field': '(other)' },
  encrypted: 0,
  decrypted: 0,
};
/** Values counted since the meter provider was last checked: an SDK installed later is noticed within 1,024. */
let sinceCheck = 0;

function countsOf(model: string, field: string): FieldCounts {
  if ((++sinceCheck & 1023) === 0 || provider === undefined) instruments();
  const id = `${model}\u0000${field}`;
  let counts = fieldCounts.get(id);
  if (counts === undefined) {
    if (fieldCounts.size >= MAX_FIELDS) return OTHER;
    counts = { attributes: { 'hushfield.model': model, 'hushfield.field': field }, encrypted: 0, decrypted: 0 };
    if (fieldCounts.size === MAX_FIELDS - 1) fieldCounts.set('\u0000other', OTHER);
    fieldCounts.set(id, counts);
  }
  return counts;
}

/** Counts one value encrypted for `model`.`field` (database names). */
export function countEncrypted(model: string, field: string): void {
  countsOf(model, field).encrypted++;
}

/** Counts one value decrypted for `model`.`field`. */
export function countDecrypted(model: string, field: string): void {
  countsOf(model, field).decrypted++;
}

/** Counts one value that failed to decrypt, by error code. */
export function countDecryptFailure(code: string, model: string, field: string): void {
  const { attributes } = countsOf(model, field);
  instruments().decryptFailures.add(1, { ...attributes, 'hushfield.error.code': code });
}

/** Counts audit events a sink dropped. */
export function countAuditDropped(sink: string, count = 1): void {
  instruments().auditDropped.add(count, { 'hushfield.audit.sink': sink });
}
