import { randomBytes } from 'node:crypto';
import { KeyDestroyedError } from './errors';
import { FieldCrypto } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';

const users = { model: 'users', field: 'email', rowId: 'row-1' };
const nextTask = () => new Promise((resolve) => setImmediate(resolve));
const wrappedDekOf = (envelope: string) => envelope.split('$')[4];

function setup() {
  const keyring = new LocalKeyring(randomBytes(32));
  const keyStore = new MemoryKeyStore();
  const crypto = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 }, dekPool: { perScope: 2 } });
  return { keyring, keyStore, crypto };
}

/** Writes one row of `scope` the way the extension does on a warm cache, and lets the pool refill. */
async function writeRow(crypto: FieldCrypto, scope: string, value = 'ada@example.com'): Promise<string> {
  const row = crypto.cachedRowEncryptor(scope) ?? (await crypto.rowEncryptor(scope));
  try {
    return row.encrypt(value, users);
  } finally {
    row.dispose();
    await nextTask();
  }
}

describe('FieldCrypto DEK pool', () => {
  it('prepares DEKs after a write, off its path, and later writes take them', async () => {
    const { crypto } = setup();
    const row = crypto.cachedRowEncryptor('t1') ?? (await crypto.rowEncryptor('t1'));
    expect(crypto.stats().dekPoolReady).toBe(0); // not on the write's path
    row.dispose();
    await nextTask();
    expect(crypto.stats().dekPoolReady).toBe(2);
    await writeRow(crypto, 't1');
    expect(crypto.stats()).toMatchObject({ dekPoolTaken: 1, dekPoolReady: 1 }); // above low water: no refill yet
    await writeRow(crypto, 't1');
    expect(crypto.stats()).toMatchObject({ dekPoolTaken: 2, dekPoolReady: 2 }); // ran dry: refilled in one batch
  });

  it('never gives two writes the same DEK, whether prepared or drawn on the spot', async () => {
    const { crypto, keyring, keyStore } = setup();
    const envelopes: string[] = [];
    for (let i = 0; i < 20; i++) envelopes.push(await writeRow(crypto, 't1'));
    // Back to back without a refill in between: the pool runs dry and DEKs are drawn on the spot.
    const rows = Array.from({ length: 5 }, () => crypto.cachedRowEncryptor('t1')!);
    for (const row of rows) envelopes.push(row.encrypt('x', users));
    for (const row of rows) row.dispose();
    expect(crypto.stats().dekPoolTaken).toBeGreaterThanOrEqual(20);
    expect(new Set(envelopes.map(wrappedDekOf)).size).toBe(envelopes.length);
    // Every one of them opens for a reader with cold caches.
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 }, dekCache: false });
    for (const envelope of envelopes) await expect(reader.decrypt(envelope, users)).resolves.toBeDefined();
  });

  it('flushes a scope when its key is rotated: the next write is sealed under the new version', async () => {
    const { crypto } = setup();
    await writeRow(crypto, 't1');
    expect(crypto.stats().dekPoolReady).toBe(2);
    await crypto.keys.rotateScope('t1');
    expect(crypto.stats().dekPoolReady).toBe(0);
    const after = await writeRow(crypto, 't1');
    expect(crypto.describe(after).version).toBe(2);
  });

  it('never hands a destroyed scope a prepared DEK: flushed at once, and its writes fail', async () => {
    const { crypto } = setup();
    await writeRow(crypto, 'gone');
    await writeRow(crypto, 'kept');
    expect(crypto.stats().dekPoolReady).toBe(4);
    const taken = crypto.stats().dekPoolTaken;
    await crypto.keys.destroyScope('gone');
    expect(crypto.stats().dekPoolReady).toBe(2); // 'kept' keeps its own
    expect(crypto.cachedRowEncryptor('gone')).toBeUndefined();
    await expect(crypto.rowEncryptor('gone')).rejects.toThrow(KeyDestroyedError);
    await nextTask();
    expect(crypto.stats().dekPoolReady).toBe(2);
    expect(crypto.stats().dekPoolTaken).toBe(taken);
  });

  it('a refill already asked for adds nothing once the scope is destroyed', async () => {
    const { crypto } = setup();
    await writeRow(crypto, 'gone');
    const row = crypto.cachedRowEncryptor('gone')!; // asks for a refill, not run yet
    row.dispose();
    await crypto.keys.destroyScope('gone');
    await nextTask();
    expect(crypto.stats().dekPoolReady).toBe(0);
  });

  it('clearCaches empties the pool, and without the dekPool option (or with false) nothing is prepared', async () => {
    const { crypto, keyring, keyStore } = setup();
    await writeRow(crypto, 't1');
    crypto.clearCaches();
    expect(crypto.stats().dekPoolReady).toBe(0);
    for (const dekPool of [undefined, false as const]) {
      const off = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 }, dekPool });
      await writeRow(off, 't1');
      await writeRow(off, 't1');
      expect(off.stats()).toMatchObject({ dekPoolReady: 0, dekPoolTaken: 0 });
    }
  });
});
