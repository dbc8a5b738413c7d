/**
 * A scope shredded by another process must stop decrypting (and writing) here within the key
 * cache's TTL. A scope key evicted (maxUses, maxEntries) while its active-version pointer is still
 * cached must not be unwrapped again from the wrapped key held in that pointer (which the shred
 * erased from the key store), or it is cached for a fresh TTL.
 */
import { randomBytes } from 'node:crypto';
import { KeyDestroyedError } from './errors';
import { FieldCrypto } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';

const ctx = (rowId: string) => ({ model: 'users', field: 'email', rowId });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('shred elsewhere with a key evicted before its active pointer expires', () => {
  it.each([
    ['maxUses', { ttlMs: 600, maxUses: 2 }],
    ['maxEntries', { ttlMs: 600, maxEntries: 2 }],
  ])('stops decrypting within the TTL (%s)', async (_name, cache) => {
    const keyring = new LocalKeyring(randomBytes(32));
    const keyStore = new MemoryKeyStore();
    const app = new FieldCrypto({ keyring, keyStore, cache, dekCache: false });
    const admin = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 600 } });
    const seal = async (crypto: FieldCrypto, scope: string, plain: string, rowId: string) => {
      const row = await crypto.rowEncryptor(scope);
      try {
        return row.encrypt(plain, ctx(rowId));
      } finally {
        row.dispose();
      }
    };
    const a = await seal(app, 'A', 'a-secret', '1'); // pointer and key of A cached at t=0
    await admin.keys.destroyScope('A'); // shred elsewhere at t≈0
    await sleep(450);
    // The app keeps writing (within the TTL, allowed): evict A's key (maxUses, or another scope)
    // so the next write reloads it from the still-cached pointer.
    if ('maxEntries' in cache) {
      // Reads touch the key cache only: reading B and then C's value evicts A's key, not A's pointer.
      const b = await seal(app, 'B', 'b', '2');
      await app.decrypt(b, ctx('2'));
      const c = await seal(admin, 'C', 'c', '7');
      await app.decrypt(c, ctx('7'));
    } else {
      await seal(app, 'A', 'x', '3').catch(() => undefined);
      await seal(app, 'A', 'x', '4').catch(() => undefined);
    }
    await seal(app, 'A', 'written-after-shred', '5').catch(() => undefined); // within the TTL: may still write
    await sleep(400); // t ≈ 850 ms: past the TTL (600 ms) since the shred
    // Past the TTL since the shred: neither reads nor writes of A may work any more.
    await expect(app.decrypt(a, ctx('1'))).rejects.toBeInstanceOf(KeyDestroyedError);
    await expect(seal(app, 'A', 'again', '6')).rejects.toBeInstanceOf(KeyDestroyedError);
  });
});
