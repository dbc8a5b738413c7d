import { randomBytes } from 'node:crypto';
import { DecryptionError, InvalidArgumentError, KeyStoreError } from './errors';
import { parseEnvelope } from './envelope';
import { FieldCrypto, type DecryptItem, type FieldCryptoOptions } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';

/** One row per scope (fields a and b, unbound: no row id), sealed by a writer of its own. */
async function sealed(scopes: readonly string[]) {
  const keyring = new LocalKeyring(randomBytes(32));
  const keyStore = new MemoryKeyStore();
  const writer = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
  const rows = new Map<string, DecryptItem[]>();
  for (const scope of scopes) {
    const row = await writer.rowEncryptor(scope);
    rows.set(
      scope,
      ['a', 'b'].map((field) => {
        const ctx = { model: 'notes', field };
        return { value: row.encrypt(`secret ${field} of ${scope}`, ctx), ctx };
      }),
    );
    row.dispose();
  }
  const reader = (options: Partial<FieldCryptoOptions> = {}) =>
    new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 }, ...options });
  return { rows, reader, keyStore };
}

/** The items of `row` read as values of a row in `scope`. */
function readAs(row: readonly DecryptItem[], scope: string): DecryptItem[] {
  return row.map(({ value, ctx }) => ({ value, ctx: { ...ctx, scope } }));
}

function expectOtherScope(result: unknown, keyId: string, scope: string): void {
  expect(result).toBeInstanceOf(DecryptionError);
  const error = result as DecryptionError;
  expect(error.code).toBe('HUSHFIELD_DECRYPTION_FAILED');
  expect(error.message).toContain(keyId);
  expect(error.message).toContain(`"${scope}"`);
  expect(error.message).not.toContain('secret');
}

const keyIdOf = (item: DecryptItem) => parseEnvelope(item.value as string).keyId;

describe('the scope of a value read (ctx.scope)', () => {
  it("opens a row's values under its own scope and refuses those sealed under another scope's key, cold and warm", async () => {
    const { rows, reader } = await sealed(['t1', 't2']);
    const crypto = reader();
    const t1 = rows.get('t1')!;
    const t2 = rows.get('t2')!;
    // A ciphertext copied from t1's row into t2's (same model and field: nothing else tells them apart).
    const swapped = [t1[0], t2[1]];
    for (let pass = 0; pass < 2; pass++) {
      const results = await crypto.decryptMany([...readAs(t2, 't2'), ...readAs(swapped, 't2')]);
      expect(results.slice(0, 2)).toEqual(['secret a of t2', 'secret b of t2']);
      expectOtherScope(results[2], keyIdOf(t1[0]), 't2');
      expect(results[3]).toBe('secret b of t2');
    }
    // The same DEKs are cached by now: the refusal does not depend on the key path taken.
    expect(crypto.stats().dekHits).toBeGreaterThan(0);
  });

  it('refuses a whole row copied into a row of another scope (its values share one DEK with the original)', async () => {
    const { rows, reader } = await sealed(['t1', 't2']);
    const t1 = rows.get('t1')!;
    const results = await reader().decryptMany([...readAs(t1, 't1'), ...readAs(t1, 't2')]);
    expect(results.slice(0, 2)).toEqual(['secret a of t1', 'secret b of t1']);
    expectOtherScope(results[2], keyIdOf(t1[0]), 't2');
    expectOtherScope(results[3], keyIdOf(t1[0]), 't2');
  });

  it('checks a DEK taken from the DEK cache after its scope key left the key cache (the key is loaded again)', async () => {
    const { rows, reader } = await sealed(['t1', 't2']);
    const crypto = reader({ cache: { ttlMs: 60_000, maxEntries: 1 } });
    const t1 = rows.get('t1')!;
    const t2 = rows.get('t2')!;
    expect(await crypto.decryptMany(readAs(t1, 't1'))).toEqual(['secret a of t1', 'secret b of t1']);
    // Loading t2's key evicts t1's; t1's DEK stays cached.
    expect(await crypto.decryptMany(readAs(t2, 't2'))).toEqual(['secret a of t2', 'secret b of t2']);
    const calls = crypto.stats().keyringCalls;
    const results = await crypto.decryptMany([...readAs(t1, 't1'), ...readAs(t1, 't2')]);
    expect(results.slice(0, 2)).toEqual(['secret a of t1', 'secret b of t1']);
    expectOtherScope(results[2], keyIdOf(t1[0]), 't2');
    expect(crypto.stats().keyringCalls).toBe(calls + 1);
    expect(crypto.stats().dekHits).toBeGreaterThan(0);
  });

  it('opens a cold read of more scopes than the key cache holds (each key arrives with its scope)', async () => {
    const scopes = ['t1', 't2', 't3', 't4', 't5'];
    const { rows, reader } = await sealed(scopes);
    const crypto = reader({ cache: { ttlMs: 60_000, maxEntries: 2 } });
    const items = scopes.flatMap((scope) => readAs(rows.get(scope)!, scope));
    const expected = scopes.flatMap((scope) => [`secret a of ${scope}`, `secret b of ${scope}`]);
    expect(await crypto.decryptMany(items)).toEqual(expected);
    for (const [i, item] of items.entries())
      expect(await crypto.decrypt(item.value as string, item.ctx)).toBe(expected[i]);
  });

  it("reports the key's own failure, not the scope, when a cached DEK's key cannot be loaded again", async () => {
    const { rows, reader, keyStore } = await sealed(['t1', 't2']);
    const crypto = reader({ cache: { ttlMs: 60_000, maxEntries: 1 } });
    const t1 = readAs(rows.get('t1')!, 't1');
    await crypto.decryptMany(t1);
    await crypto.decryptMany(readAs(rows.get('t2')!, 't2'));
    const down = new Error('the key store is down');
    jest.spyOn(keyStore, 'getVersion').mockRejectedValue(down);
    jest.spyOn(keyStore, 'getVersions').mockRejectedValue(down);
    const results = await crypto.decryptMany(t1);
    for (const result of results) expect(result).toBeInstanceOf(KeyStoreError);
    await expect(crypto.decrypt(t1[0].value as string, t1[0].ctx)).rejects.toThrow(KeyStoreError);
  });

  it('counts one DEK-cache hit per row when a row waits for its key', async () => {
    const { rows, reader } = await sealed(['t1', 't2']);
    const crypto = reader({ cache: { ttlMs: 60_000, maxEntries: 1 } });
    const t1 = readAs(rows.get('t1')!, 't1');
    await crypto.decryptMany(t1);
    await crypto.decryptMany(readAs(rows.get('t2')!, 't2'));
    const before = crypto.stats();
    expect(await crypto.decryptMany(t1)).toEqual(['secret a of t1', 'secret b of t1']);
    expect(crypto.stats().dekHits - before.dekHits).toBe(1);
    expect(crypto.stats().dekMisses).toBe(before.dekMisses);
  });

  it('decrypt and decryptBytes check it on every path: DEK cached, key cached, key loaded', async () => {
    const { rows, reader } = await sealed(['t1', 't2']);
    const [a] = rows.get('t1')!;
    for (const options of [{}, { dekCache: false as const }]) {
      const crypto = reader(options);
      // Cold (key loaded), then warm (key cached, or DEK cached).
      for (let i = 0; i < 2; i++) {
        await expect(crypto.decrypt(a.value as string, { ...a.ctx, scope: 't2' })).rejects.toThrow(DecryptionError);
        expect(await crypto.decrypt(a.value as string, { ...a.ctx, scope: 't1' })).toBe('secret a of t1');
      }
    }
    const keyring = new LocalKeyring(randomBytes(32));
    const keyStore = new MemoryKeyStore();
    const crypto = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const row = await crypto.rowEncryptor('t1');
    const ctx = { model: 'files', field: 'body' };
    const bytes = row.encryptBytes(Buffer.from('secret bytes'), ctx);
    row.dispose();
    await expect(crypto.decryptBytes(bytes, { ...ctx, scope: 't2' })).rejects.toThrow(
      /not a key of its row's scope "t2"/,
    );
    expect((await crypto.decryptBytes(bytes, { ...ctx, scope: 't1' })).toString()).toBe('secret bytes');
  });

  it('is not checked when the caller does not name the scope', async () => {
    const { rows, reader } = await sealed(['t1']);
    expect(await reader().decryptMany(rows.get('t1')!)).toEqual(['secret a of t1', 'secret b of t1']);
  });

  it('refuses a scope that is not a non-empty string', async () => {
    const { rows, reader } = await sealed(['t1']);
    const [a] = rows.get('t1')!;
    const crypto = reader();
    for (const scope of ['', 7]) {
      const ctx = { ...a.ctx, scope: scope as string };
      await expect(crypto.decrypt(a.value as string, ctx)).rejects.toThrow(InvalidArgumentError);
      expect((await crypto.decryptMany([{ value: a.value, ctx }]))[0]).toBeInstanceOf(InvalidArgumentError);
    }
  });
});
