import { randomBytes } from 'node:crypto';
import type { BlindIndexSpec } from './blind-index';
import { InvalidArgumentError, KeyDestroyedError } from './errors';
import { FieldCrypto } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';

const spec: BlindIndexSpec = {
  model: 'users',
  field: 'email',
  name: 'email_idx',
  normalize: ['trim@1', 'lowercase@1'],
  bits: 256,
  perScope: true,
};
const shared: BlindIndexSpec = { ...spec, perScope: false };

function setup() {
  const keyring = new LocalKeyring(randomBytes(32));
  const keyStore = new MemoryKeyStore();
  const crypto = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
  return { keyring, keyStore, crypto };
}

describe('per-scope blind indexes', () => {
  it('differ between scopes for one plaintext, agree within a scope, and say they are per scope', async () => {
    const { crypto } = setup();
    const a = await crypto.blindIndex(spec, ' Ada@Example.com ', 'acme');
    expect(a).toBe(await crypto.blindIndex(spec, 'ada@example.com', 'acme'));
    expect(a).not.toBe(await crypto.blindIndex(spec, 'ada@example.com', 'globex'));
    expect(a).not.toBe(await crypto.blindIndex(shared, 'ada@example.com'));
    expect(a.startsWith('s1.n1.')).toBe(true);
    expect(crypto.describeBlindIndex(a)).toMatchObject({ perScope: true, rootVersion: 1 });
    expect(await crypto.blindIndexAll(spec, 'ADA@example.com', 'acme')).toEqual([a]);
  });

  it('costs no keyring call beyond the scope key itself, and is computed synchronously once it is cached', async () => {
    const { crypto } = setup();
    await crypto.blindIndex(spec, 'warm@example.com', 'acme');
    const before = crypto.stats().keyringCalls;
    for (let i = 0; i < 50; i++) {
      expect(crypto.cachedBlindIndex(spec, `user${i}@example.com`, 'acme')).toMatch(/^s1\.n1\./);
      await crypto.blindIndexAll(spec, `user${i}@example.com`, 'acme');
    }
    expect(crypto.stats().keyringCalls).toBe(before);
    expect(crypto.cachedBlindIndex(spec, 'x@example.com', 'never-used')).toBeUndefined();
  });

  it('matches every live scope key version after a rotation, the active one first', async () => {
    const { crypto } = setup();
    const before = await crypto.blindIndex(spec, 'ada@example.com', 'acme');
    await crypto.keys.rotateScope('acme');
    const after = await crypto.blindIndex(spec, 'ada@example.com', 'acme');
    expect(after.startsWith('s2.')).toBe(true);
    expect(await crypto.blindIndexAll(spec, 'ada@example.com', 'acme')).toEqual([after, before]);
  });

  it('a lookup in a scope without a key matches nothing and creates no key', async () => {
    const { crypto, keyStore } = setup();
    expect(await crypto.blindIndexAll(spec, 'ada@example.com', 'nobody')).toEqual([]);
    expect(await keyStore.list({ kind: 'scope', scope: 'nobody' })).toEqual([]);
  });

  it('a shred leaves nothing to match and nothing to recompute, even with the root key and the index root key', async () => {
    const { crypto, keyring, keyStore } = setup();
    const stored = await crypto.blindIndex(spec, 'ada@example.com', 'acme');
    await crypto.blindIndex(shared, 'ada@example.com'); // the shared index root key exists and stays
    await crypto.keys.destroyScope('acme');
    expect(await crypto.blindIndexAll(spec, 'ada@example.com', 'acme')).toEqual([]);
    await expect(crypto.blindIndex(spec, 'ada@example.com', 'acme')).rejects.toBeInstanceOf(KeyDestroyedError);
    // A new process holding the same root key and key store (index root included):
    const fresh = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    expect(await fresh.blindIndexAll(spec, 'ada@example.com', 'acme')).toEqual([]);
    expect((await keyStore.list({ kind: 'scope', scope: 'acme' })).every((key) => key.wrappedKey === null)).toBe(true);
    // Neither the shared index nor any other scope's index reproduces the stored value.
    const candidates = [
      ...(await fresh.blindIndexAll(shared, 'ada@example.com')),
      await fresh.blindIndex(spec, 'ada@example.com', 'acme-2'),
    ];
    expect(candidates).not.toContain(stored);
  });

  it('a shred in this process drops the per-scope index keys derived from the scope at once', async () => {
    const { crypto } = setup();
    await crypto.blindIndex(spec, 'ada@example.com', 'acme');
    await crypto.blindIndex(spec, 'ada@example.com', 'globex');
    await crypto.keys.destroyScope('acme');
    expect(crypto.cachedBlindIndex(spec, 'ada@example.com', 'acme')).toBeUndefined();
    await expect(crypto.blindIndex(spec, 'ada@example.com', 'acme')).rejects.toBeInstanceOf(KeyDestroyedError);
    // The other scope's derived key still serves it without any key load.
    const before = crypto.stats();
    expect(crypto.cachedBlindIndex(spec, 'ada@example.com', 'globex')).toMatch(/^s1\./);
    expect(crypto.stats().keyringCalls).toBe(before.keyringCalls);
  });

  it('refuses a per-scope index without a scope', async () => {
    const { crypto } = setup();
    await expect(crypto.blindIndex(spec, 'ada@example.com')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(crypto.blindIndexAll(spec, 'ada@example.com')).rejects.toThrow(
      'scope must be given for a per-scope index',
    );
    expect(() => crypto.cachedBlindIndex(spec, 'ada@example.com')).toThrow(InvalidArgumentError);
  });

  describe('versions added by another process', () => {
    /** Two FieldCrypto over one key store: two processes' caches. */
    function twoProcesses() {
      const { keyring, keyStore, crypto } = setup();
      const other = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
      const lists = jest.spyOn(keyStore, 'list');
      return { crypto, other, lists };
    }
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it('a miss reads the scope versions again (at most once a second) and says when a new one appeared', async () => {
      const { crypto, other, lists } = twoProcesses();
      const old = await crypto.blindIndex(spec, 'ada@example.com', 'acme');
      expect(await crypto.blindIndexAll(spec, 'ada@example.com', 'acme')).toEqual([old]);
      expect(crypto.cachedScopeIndexVersionCount('acme')).toBe(1);
      const mark = crypto.scopeIndexVersionsMark('acme');
      await other.keys.rotateScope('acme');
      // Within a second of the last read: answered from it, no key-store query.
      let reads = lists.mock.calls.length;
      expect(await crypto.refreshScopeIndexVersions('acme', mark)).toBe(false);
      expect(lists.mock.calls.length).toBe(reads);
      await sleep(1_050);
      expect(await crypto.refreshScopeIndexVersions('acme', mark)).toBe(true);
      const fresh = await other.blindIndex(spec, 'ada@example.com', 'acme');
      expect(await crypto.blindIndexAll(spec, 'ada@example.com', 'acme')).toEqual([fresh, old]);
      expect(crypto.cachedScopeIndexVersionCount('acme')).toBe(2);
      // A lookup marked before that read learns of the new version from it, without another query.
      reads = lists.mock.calls.length;
      expect(await crypto.refreshScopeIndexVersions('acme', mark)).toBe(true);
      expect(await crypto.refreshScopeIndexVersions('acme', crypto.scopeIndexVersionsMark('acme'))).toBe(false);
      expect(lists.mock.calls.length).toBe(reads);
    });

    it('knows the count of live versions only from the list read (a cached active version 1 says nothing of a rotation elsewhere)', async () => {
      const { crypto, other } = twoProcesses();
      expect(crypto.cachedScopeIndexVersionCount('acme')).toBe(0);
      await crypto.blindIndex(spec, 'ada@example.com', 'acme'); // the active version, not the list
      expect(crypto.cachedScopeIndexVersionCount('acme')).toBe(0); // not known: the list must be read
      await other.keys.rotateScope('acme'); // version 1 stays active in this process's cache
      await crypto.blindIndexAll(spec, 'ada@example.com', 'acme');
      expect(crypto.cachedScopeIndexVersionCount('acme')).toBe(2);
      await crypto.keys.rotateScope('acme');
      expect(crypto.cachedScopeIndexVersionCount('acme')).toBe(0); // a version added here: read again
    });

    it('a refresh for a scope never read, or with a bad scope, queries nothing or refuses', async () => {
      const { crypto, lists } = twoProcesses();
      expect(await crypto.refreshScopeIndexVersions('nobody', crypto.scopeIndexVersionsMark('nobody'))).toBe(false);
      expect(lists).not.toHaveBeenCalled();
      await expect(crypto.refreshScopeIndexVersions('')).rejects.toThrow(InvalidArgumentError);
    });
  });
});
