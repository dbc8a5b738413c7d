/**
 * A scope destroyed while a read is waiting for another scope's key: the read may finish (it
 * began before the destroy), but it must not put the destroyed scope's DEKs back into the DEK
 * cache, or later reads would decrypt the shredded values from there until the TTL.
 */
import { randomBytes } from 'node:crypto';
import { KeyDestroyedError } from './errors';
import { FieldCrypto } from './field-crypto';
import type { Keyring } from './keyring';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';

/** A keyring whose unwraps wait for `release()` while `hold` is on. */
function heldKeyring(base: LocalKeyring) {
  let hold = false;
  const waiting: (() => void)[] = [];
  const keyring: Keyring = {
    id: base.id,
    wrapKey: (key, context) => base.wrapKey(key, context),
    unwrapKey: async (wrapped, context) => {
      if (hold) await new Promise<void>((resolve) => waiting.push(resolve));
      return base.unwrapKey(wrapped, context);
    },
    generateKey: base.generateKey.bind(base),
  } as Keyring;
  return {
    keyring,
    hold: (on: boolean) => (hold = on),
    release: () => waiting.splice(0).forEach((resolve) => resolve()),
  };
}

const ctx = (rowId: string) => ({ model: 'users', field: 'email', rowId });

async function world() {
  const base = new LocalKeyring(randomBytes(32));
  const keyStore = new MemoryKeyStore();
  const writer = new FieldCrypto({ keyring: base, keyStore, cache: { ttlMs: 60_000 } });
  const seal = async (scope: string, plain: string, rowId: string) => {
    const row = await writer.rowEncryptor(scope);
    try {
      return row.encrypt(plain, ctx(rowId));
    } finally {
      row.dispose();
    }
  };
  const a1 = await seal('A', 'a1-secret', '1');
  const a2 = await seal('A', 'a2-secret', '2');
  const b1 = await seal('B', 'b1-secret', '3');
  const held = heldKeyring(base);
  const reader = new FieldCrypto({ keyring: held.keyring, keyStore, cache: { ttlMs: 60_000 } });
  expect(await reader.decrypt(a1, ctx('1'))).toBe('a1-secret'); // scope A's key warm, B's cold
  return { reader, held, a2, b1 };
}

/** Starts a read, destroys scope A while the read waits on the held keyring, then lets it finish. */
async function destroyDuring(reader: FieldCrypto, held: ReturnType<typeof heldKeyring>, start: () => Promise<unknown>) {
  held.hold(true);
  const read = start();
  await new Promise((resolve) => setImmediate(resolve));
  held.hold(false);
  await reader.keys.destroyScope('A');
  held.release();
  await read;
}

describe('destroying a scope during a read', () => {
  it("a decryptMany waiting for another key does not re-cache the destroyed scope's DEKs", async () => {
    const { reader, held, a2, b1 } = await world();
    await destroyDuring(reader, held, () =>
      reader.decryptMany([
        { value: b1, ctx: ctx('3') },
        { value: a2, ctx: ctx('2') },
      ]),
    );
    await expect(reader.decrypt(a2, ctx('2'))).rejects.toBeInstanceOf(KeyDestroyedError);
  });

  it('a decrypt waiting for its key does not re-cache a DEK of a scope destroyed meanwhile', async () => {
    const { reader, held, a2 } = await world();
    reader.clearCaches(); // scope A's key now has to be unwrapped: the decrypt waits there
    await destroyDuring(reader, held, () => reader.decrypt(a2, ctx('2')).catch((error: unknown) => error));
    await expect(reader.decrypt(a2, ctx('2'))).rejects.toBeInstanceOf(KeyDestroyedError);
  });
});
