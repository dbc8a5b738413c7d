/**
 * AwsKmsKeyring behind core's FieldCrypto key cache, against the KMS emulator: KMS calls scale
 * with scope keys, not values; an outage is absorbed by a warm cache until its TTL and then
 * fails closed; and nothing printed, audited or thrown contains key material.
 */
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import {
  FieldCrypto,
  KeyringError,
  MemoryKeyStore,
  type AuditEvent,
  type FieldContext,
  type KeyStore,
} from '@hushfield/core';
import { AwsKmsKeyring } from '@hushfield/kms-aws';
import { kmsAdmin, startKmsEmulator, type CreatedKey, type KmsEmulator } from './emulator';

const where = (rowId: string): FieldContext => ({ model: 'users', field: 'email', rowId });

describe('AwsKmsKeyring behind the FieldCrypto key cache', () => {
  let emulator: KmsEmulator;
  let key: CreatedKey;
  let events: AuditEvent[];
  const keyrings: AwsKmsKeyring[] = [];

  const keyring = (): AwsKmsKeyring => {
    const created = new AwsKmsKeyring({
      keyId: key.arn,
      clientConfig: { endpoint: emulator.endpoint, region: emulator.region, credentials: emulator.credentials },
      retry: { maxAttempts: 4, sleep: async () => undefined },
      timeoutMs: 2_000,
      audit: { emit: (event) => void events.push(event) },
    });
    keyrings.push(created);
    return created;
  };

  /** Writes `count` values of one scope, each row under its own DEK, through a first FieldCrypto. */
  async function writeValues(
    keyStore: KeyStore,
    scope: string,
    count: number,
  ): Promise<{ value: string; ctx: FieldContext; plaintext: string }[]> {
    const writer = new FieldCrypto({ keyring: keyring(), keyStore, cache: { ttlMs: 60_000 } });
    const rows = [];
    for (let i = 0; i < count; i++) {
      const ctx = where(randomUUID());
      const plaintext = `user-${i}@example.com`;
      const encryptor = await writer.rowEncryptor(scope);
      rows.push({ value: encryptor.encrypt(plaintext, ctx), ctx, plaintext });
      encryptor.dispose();
    }
    return rows;
  }

  beforeAll(async () => {
    emulator = await startKmsEmulator();
    key = await kmsAdmin(emulator).createKey();
  });
  beforeEach(async () => {
    await emulator.faults.clear();
    emulator.calls.reset();
    events = [];
  });
  afterAll(async () => {
    for (const created of keyrings) created.destroy();
    await emulator.stop();
  });

  it('serves 1,000 concurrent decrypts of one scope with exactly one KMS Decrypt call', async () => {
    const keyStore = new MemoryKeyStore();
    const rows = await writeValues(keyStore, 'tenant-a', 1_000);
    expect(emulator.calls.get('Decrypt')).toBe(0);
    const reader = new FieldCrypto({ keyring: keyring(), keyStore, cache: { ttlMs: 60_000 } });
    emulator.faults.latencyMs = 50; // keep the first call in flight while the others arrive
    const values = await Promise.all(rows.map((row) => reader.decrypt(row.value, row.ctx)));
    expect(values).toEqual(rows.map((row) => row.plaintext));
    expect(emulator.calls.get('Decrypt')).toBe(1);
    expect(reader.stats().keyringCalls).toBe(1);
  });

  it('retries through 3 throttled Decrypt calls behind the cache: one unwrap, every value served', async () => {
    const keyStore = new MemoryKeyStore();
    const rows = await writeValues(keyStore, 'tenant-e', 100);
    const reader = new FieldCrypto({ keyring: keyring(), keyStore, cache: { ttlMs: 60_000 } });
    events = [];
    emulator.faults.throttle(3, { operations: ['Decrypt'] });
    const values = await Promise.all(rows.map((row) => reader.decrypt(row.value, row.ctx)));
    expect(values).toEqual(rows.map((row) => row.plaintext));
    expect(emulator.calls.get('Decrypt')).toBe(4);
    expect(reader.stats().keyringCalls).toBe(1);
    const unwraps = events.filter((event) => event.operation === 'keyring.unwrap');
    expect(unwraps).toHaveLength(1);
    expect(unwraps[0]).toMatchObject({ outcome: 'success', scope: 'tenant-e', detail: { attempts: 4 } });
  });

  it('keeps serving through a KMS outage while the cache is warm, then fails closed with a typed error', async () => {
    const keyStore = new MemoryKeyStore();
    const rows = await writeValues(keyStore, 'tenant-b', 4);
    const ttlMs = 1_500;
    const reader = new FieldCrypto({ keyring: keyring(), keyStore, cache: { ttlMs }, dekCache: false });
    expect(await reader.decrypt(rows[0].value, rows[0].ctx)).toBe(rows[0].plaintext);
    const warmedAt = performance.now();
    await emulator.faults.outage();
    expect(await reader.decrypt(rows[1].value, rows[1].ctx)).toBe(rows[1].plaintext);
    expect(performance.now() - warmedAt).toBeLessThan(ttlMs);
    await new Promise((resolve) => setTimeout(resolve, ttlMs + 100));
    const error = await reader.decrypt(rows[2].value, rows[2].ctx).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KeyringError);
    expect(error).toMatchObject({ code: 'HUSHFIELD_KEYRING', operation: 'unwrap', retryable: true });
    expect((error as Error).message).not.toContain(rows[2].plaintext);
    await emulator.faults.restore();
    expect(await reader.decrypt(rows[3].value, rows[3].ctx)).toBe(rows[3].plaintext);
  });

  it('never prints, audits or throws key material', async () => {
    const printed: string[] = [];
    const spies = (['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((level) =>
      jest
        .spyOn(console, level)
        .mockImplementation(
          (...args: unknown[]) => void printed.push(args.map((a) => inspect(a, { depth: 8 })).join(' ')),
        ),
    );
    const warnings = jest
      .spyOn(process, 'emitWarning')
      .mockImplementation((warning: string | Error) => void printed.push(String(warning)));
    const coreEvents: AuditEvent[] = [];
    const failures: unknown[] = [];
    try {
      const keyStore = new MemoryKeyStore();
      const ring = keyring();
      const crypto = new FieldCrypto({
        keyring: ring,
        keyStore,
        cache: { ttlMs: 60_000 },
        audit: { emit: (event) => void coreEvents.push(event) },
        auditDecrypts: true,
      });
      const ctx = where(randomUUID());
      const encryptor = await crypto.rowEncryptor('tenant-c');
      const stored = encryptor.encrypt('secret@example.com', ctx);
      encryptor.dispose();
      emulator.faults.throttle(1);
      await crypto.decrypt(stored, ctx);
      await crypto.decrypt(stored, where(randomUUID())).catch((e: unknown) => failures.push(e));
      const scopeKey = (await keyStore.getActive('scope', 'tenant-c'))!;
      const wrapped = Buffer.from(scopeKey.wrappedKey!, 'base64');
      const scopeContext = {
        purpose: 'hushfield/scope-key',
        keyId: scopeKey.keyId,
        scope: 'tenant-c',
        version: String(scopeKey.version),
      };
      const plaintextKey = await ring.unwrapKey(wrapped, scopeContext);
      await ring.unwrapKey(wrapped, { ...scopeContext, scope: 'tenant-x' }).catch((e: unknown) => failures.push(e));
      const tampered = Buffer.from(wrapped);
      tampered[tampered.length - 2] ^= 0xff;
      await ring.unwrapKey(tampered, scopeContext).catch((e: unknown) => failures.push(e));
      await emulator.faults.outage();
      await ring.unwrapKey(wrapped, scopeContext).catch((e: unknown) => failures.push(e));
      await emulator.faults.restore();
      expect(failures).toHaveLength(4);
      for (const failure of failures) console.error(failure);

      const output = [
        ...printed,
        ...failures.map((e) => `${inspect(e, { depth: 8, showHidden: true })} ${JSON.stringify(e)}`),
        JSON.stringify(events),
        inspect(events, { depth: 8 }),
        JSON.stringify(coreEvents),
        inspect(ring, { depth: 8, showHidden: true }),
        inspect(crypto, { depth: 8 }),
        JSON.stringify(crypto),
      ].join('\n');
      expect(events.length).toBeGreaterThanOrEqual(4);
      expect(output).toContain(key.arn); // identifiers are printed, so the search below is meaningful
      const secrets = [plaintextKey, wrapped.subarray(wrapped.length - 48)];
      for (const secret of secrets) {
        const spacedHex = [...secret].map((byte) => byte.toString(16).padStart(2, '0')).join(' '); // util.inspect(Buffer)
        for (const spelling of [
          secret.toString('hex'),
          spacedHex,
          secret.toString('base64'),
          secret.toString('base64url'),
        ]) {
          expect(output).not.toContain(spelling);
        }
      }
      expect(output).not.toContain('secret@example.com');
    } finally {
      for (const spy of spies) spy.mockRestore();
      warnings.mockRestore();
    }
  });

  it('stores what KMS wrapped: the key-store row holds the framed KMS ciphertext blob', async () => {
    const keyStore = new MemoryKeyStore();
    const crypto = new FieldCrypto({ keyring: keyring(), keyStore, cache: { ttlMs: 60_000 } });
    (await crypto.rowEncryptor('tenant-d')).dispose();
    const stored = (await keyStore.getActive('scope', 'tenant-d'))!;
    const wrapped = Buffer.from(stored.wrappedKey!, 'base64');
    expect(stored.keyringId).toBe(`aws-kms:${key.arn}`);
    expect(wrapped.subarray(0, 3).toString('ascii')).toBe('HFK');
    expect(wrapped.toString('latin1')).toContain(key.arn);
    expect(emulator.calls.get('GenerateDataKey') + emulator.calls.get('Encrypt')).toBe(1);
  });
});
