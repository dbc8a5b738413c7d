import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { AuditEvent } from './audit';
import { ConfigError, DecryptionError, EnvelopeFormatError, KeyDestroyedError } from './errors';
import { FieldCrypto } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';

const users = { model: 'users', field: 'email', rowId: 'row-1' };

function setup(extra: Partial<ConstructorParameters<typeof FieldCrypto>[0]> = {}) {
  const keyring = new LocalKeyring(randomBytes(32));
  const keyStore = new MemoryKeyStore();
  const events: AuditEvent[] = [];
  const crypto = new FieldCrypto({
    keyring, keyStore, cache: { ttlMs: 60_000 }, audit: { emit: (event) => void events.push(event) }, ...extra,
  });
  return { keyring, keyStore, crypto, events };
}

describe('FieldCrypto', () => {
  it('round-trips a value through an envelope', async () => {
    const { crypto } = setup();
    const row = await crypto.rowEncryptor('default');
    const stored = row.encrypt('ada@example.com', users);
    row.dispose();
    expect(crypto.isEnvelope(stored)).toBe(true);
    expect(stored).not.toContain('ada');
    await expect(crypto.decrypt(stored, users)).resolves.toBe('ada@example.com');
  });

  it('refuses to be configured without a cache TTL', () => {
    const keyring = new LocalKeyring(randomBytes(32));
    expect(() => new FieldCrypto({ keyring, keyStore: new MemoryKeyStore(), cache: {} as never })).toThrow(ConfigError);
  });

  it('writes one wrapped DEK for all fields of a row and a fresh one per row', async () => {
    const { crypto } = setup();
    const row = await crypto.rowEncryptor('default');
    const a = row.encrypt('a', users);
    const b = row.encrypt('b', { ...users, field: 'phone' });
    const next = (await crypto.rowEncryptor('default')).encrypt('a', users);
    const dekOf = (s: string) => s.split('$')[4];
    expect(dekOf(a)).toBe(dekOf(b));
    expect(dekOf(next)).not.toBe(dekOf(a));
  });

  it('rejects a ciphertext moved to another row, field or model', async () => {
    const { crypto } = setup();
    const stored = (await crypto.rowEncryptor('default')).encrypt('secret', users);
    await expect(crypto.decrypt(stored, { ...users, rowId: 'row-2' })).rejects.toThrow(DecryptionError);
    await expect(crypto.decrypt(stored, { ...users, field: 'name' })).rejects.toThrow(DecryptionError);
    await expect(crypto.decrypt(stored, { ...users, model: 'admins' })).rejects.toThrow(DecryptionError);
    await expect(crypto.decrypt(stored, { model: 'users', field: 'email' })).rejects.toThrow(DecryptionError);
  });

  it('decryptMany returns values and typed errors in place, one keyring call per scope key', async () => {
    const { crypto, keyring, keyStore } = setup();
    const writer = await crypto.rowEncryptor('t1');
    const good = writer.encrypt('v', users);
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const result = await reader.decryptMany([
      { value: good, ctx: users }, { value: 'garbage', ctx: users }, { value: good, ctx: { ...users, rowId: 'x' } },
    ]);
    expect(result[0]).toBe('v');
    expect(result[1]).toBeInstanceOf(EnvelopeFormatError);
    expect(result[2]).toBeInstanceOf(DecryptionError);
    expect(reader.stats().keyringCalls).toBe(1);
  });

  it('a destroyed scope cannot decrypt and says the scope was destroyed', async () => {
    const { crypto } = setup();
    const stored = (await crypto.rowEncryptor('tenant-9')).encrypt('x', users);
    await expect(crypto.decrypt(stored, users)).resolves.toBe('x');
    expect(await crypto.keys.destroyScope('tenant-9')).toBe(1);
    const error = await crypto.decrypt(stored, users).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyDestroyedError);
    expect((error as Error).message).toContain('scope "tenant-9" was destroyed');
  });

  it('prints no key material', async () => {
    const { crypto } = setup();
    await crypto.rowEncryptor('default');
    expect(inspect(crypto)).toMatch(/^FieldCrypto/);
    expect(JSON.parse(JSON.stringify(crypto))).toHaveProperty('keyringCalls');
  });

  it('computes versioned blind indexes', async () => {
    const { crypto } = setup();
    const spec = { model: 'users', field: 'emailIdx', name: 'email', normalize: ['trim', 'lowercase'] as const, bits: 256 };
    const a = await crypto.blindIndex(spec, ' Ada@Example.com');
    expect(a).toBe(await crypto.blindIndex(spec, 'ada@example.com'));
    expect(crypto.blindIndexVersion(a)).toBe(1);
    await crypto.keys.rotateIndexKey();
    const all = await crypto.blindIndexAll(spec, 'ada@example.com');
    expect(all.map((v) => crypto.blindIndexVersion(v))).toEqual([2, 1]);
    expect(all[1]).toBe(a);
  });
});
