/**
 * OpenTelemetry: the spans and metrics hushfield records through `@opentelemetry/api`, read
 * back through the SDK's in-memory exporters, and the secrets that must never appear in them.
 */
import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring, MemoryKeyStore } from '@hushfield/core';
import type { EncryptionContext, Keyring } from '@hushfield/core';
import { installOtel, total } from './otel';

const otel = installOtel();

/** A LocalKeyring that records the keys it unwraps (to look for them later) and fails on demand. */
class RecordingKeyring implements Keyring {
  readonly id: string;
  readonly seen: Buffer[] = [];
  down = false;
  readonly #inner: LocalKeyring;

  constructor(root: Buffer) {
    this.#inner = new LocalKeyring(root);
    this.id = this.#inner.id;
  }

  async wrapKey(key: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (this.down) throw new Error('connect ECONNREFUSED');
    this.seen.push(Buffer.from(key));
    return this.#inner.wrapKey(key, context);
  }

  async unwrapKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (this.down) throw new Error('connect ECONNREFUSED');
    const key = await this.#inner.unwrapKey(wrapped, context);
    this.seen.push(Buffer.from(key));
    return key;
  }
}

const users = (rowId: string) => ({ model: 'users', field: 'email', rowId });
const ssn = (rowId: string) => ({ model: 'users', field: 'ssn', rowId });
const spec = { model: 'users', field: 'emailIdx', name: 'email', normalize: ['trim', 'lowercase'] as const, bits: 256 };

describe('OpenTelemetry spans and metrics', () => {
  const root = randomBytes(32);
  const keyring = new RecordingKeyring(root);
  const keyStore = new MemoryKeyStore();
  const plaintexts = ['ada.lovelace@example.com', '078-05-1120', 'grace.hopper@example.com'];
  const secrets: string[] = [];
  let crypto: FieldCrypto;

  beforeAll(async () => {
    crypto = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const row = await crypto.rowEncryptor('tenant-secret-scope');
    const stored = [row.encrypt(plaintexts[0], users('r1')), row.encrypt(plaintexts[1], ssn('r1'))];
    row.dispose();
    const other = await crypto.rowEncryptor('tenant-secret-scope');
    stored.push(other.encrypt(plaintexts[2], users('r2')));
    other.dispose();
    // A second process: cold caches, so it loads (and unwraps) the scope key.
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    expect(await reader.decrypt(stored[0], users('r1'))).toBe(plaintexts[0]);
    const many = await reader.decryptMany([
      { value: stored[1], ctx: ssn('r1') },
      { value: stored[2], ctx: users('r2') },
      { value: stored[2], ctx: users('moved') },
    ]);
    expect(many.slice(0, 2)).toEqual(plaintexts.slice(1));
    expect(many[2]).toBeInstanceOf(Error);
    // Malformed values, one through each path: counted by their code too.
    await expect(reader.decrypt('hfe$1$not-an-envelope', users('r3'))).rejects.toThrow();
    const malformed = await reader.decryptMany([{ value: 'hfe$1$x$1$y$z', ctx: users('r4') }]);
    expect(malformed[0]).toBeInstanceOf(Error);
    const index = await crypto.blindIndex(spec, plaintexts[0]);
    // Keyring outage on a cold cache: a failed unwrap.
    keyring.down = true;
    const cold = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    await expect(cold.decrypt(stored[0], users('r1'))).rejects.toThrow();
    keyring.down = false;
    for (const secret of [...plaintexts, root, ...keyring.seen, index]) {
      if (typeof secret === 'string') secrets.push(secret, secret.toLowerCase());
      else secrets.push(secret.toString('hex'), secret.toString('base64'), secret.toString('base64url'));
    }
    secrets.push(index.split('$').pop()!, 'tenant-secret-scope');
  });

  it('records a span per keyring call, with operation, keyring id, key id and version', () => {
    const spans = otel.spans();
    const unwraps = spans.filter((span) => span.name === 'hushfield.keyring.unwrap');
    expect(unwraps.length).toBeGreaterThanOrEqual(2);
    expect(unwraps[0].attributes).toMatchObject({
      'hushfield.keyring.operation': 'unwrap',
      'hushfield.keyring.id': keyring.id,
    });
    expect(unwraps[0].attributes['hushfield.key.id']).toEqual(expect.any(String));
    expect(
      spans.some((span) => span.name === 'hushfield.keyring.wrap' || span.name === 'hushfield.keyring.generate'),
    ).toBe(true);
    const failed = unwraps.filter((span) => span.status.code === 2);
    expect(failed).toHaveLength(1);
    expect(failed[0].attributes['hushfield.error.code']).toBe('HUSHFIELD_KEYRING');
  });

  it('records a key.load span around each key loaded on a cache miss', () => {
    const loads = otel.spans().filter((span) => span.name === 'hushfield.key.load');
    expect(loads.length).toBeGreaterThanOrEqual(2);
    expect(loads[0].attributes).toMatchObject({ 'hushfield.key.kind': expect.any(String), 'hushfield.key.version': 1 });
  });

  it('counts values encrypted and decrypted per model and field, and decrypt failures by code', async () => {
    const points = await otel.points();
    const email = { 'hushfield.model': 'users', 'hushfield.field': 'email' };
    expect(total(points, 'hushfield.values.encrypted', email)).toBe(2);
    expect(total(points, 'hushfield.values.encrypted', { 'hushfield.field': 'ssn' })).toBe(1);
    expect(total(points, 'hushfield.values.decrypted', { 'hushfield.field': 'email' })).toBe(2);
    expect(total(points, 'hushfield.values.decrypted', { 'hushfield.field': 'ssn' })).toBe(1);
    const failed = { 'hushfield.error.code': 'HUSHFIELD_DECRYPTION_FAILED' };
    expect(total(points, 'hushfield.decrypt.failures', failed)).toBe(1);
    expect(total(points, 'hushfield.decrypt.failures', { 'hushfield.error.code': 'HUSHFIELD_KEYRING' })).toBe(1);
    expect(total(points, 'hushfield.decrypt.failures', { 'hushfield.error.code': 'HUSHFIELD_ENVELOPE_FORMAT' })).toBe(
      2,
    );
  });

  it('records keyring latency and errors by code', async () => {
    const points = await otel.points();
    expect(total(points, 'hushfield.keyring.duration', { 'hushfield.outcome': 'success' })).toBeGreaterThanOrEqual(3);
    expect(total(points, 'hushfield.keyring.errors', { 'hushfield.error.code': 'HUSHFIELD_KEYRING' })).toBe(1);
  });

  it('reports key-cache and DEK-cache counters of each FieldCrypto as observable metrics', async () => {
    const points = await otel.points();
    const stats = crypto.stats();
    const mine = points.filter((point) => point.name === 'hushfield.key_cache.misses' && point.value === stats.misses);
    expect(mine.length).toBeGreaterThanOrEqual(1);
    for (const name of ['hits', 'misses']) {
      expect(points.some((point) => point.name === `hushfield.key_cache.${name}`)).toBe(true);
      expect(points.some((point) => point.name === `hushfield.dek_cache.${name}`)).toBe(true);
    }
    expect(total(points, 'hushfield.dek_cache.hits')).toBeGreaterThanOrEqual(1);
    expect(points.some((point) => point.name === 'hushfield.keyring.calls')).toBe(true);
  });

  it('puts no plaintext, key byte, index value or scope in any span or metric name or attribute', async () => {
    const strings = await otel.strings();
    expect(strings.length).toBeGreaterThan(50);
    expect(secrets.length).toBeGreaterThan(10);
    for (const secret of secrets) {
      for (const text of strings) expect(text.includes(secret) ? `${text} contains a secret` : 'clean').toBe('clean');
    }
  });
});
