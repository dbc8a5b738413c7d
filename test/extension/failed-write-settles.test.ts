/**
 * A write that fails settles only once the work it started has: a `createMany` across tenants
 * whose key creation failed for one tenant used to reject while the other tenants' key
 * creations still ran. A caller closing its client on the failure
 * (`finally { await prisma.$disconnect() }`) then had those creations query the client after
 * the disconnect: Prisma reopened its pool, and on MariaDB (whose dropped database leaves the
 * connections open) the process never exited. CI's MariaDB run hung so after
 * concurrent-writer.test.ts's `createMany` failed on a key-store transaction timeout.
 */
import { randomBytes } from 'node:crypto';
import { KeyStoreError, type NewStoredKey, type StoredKey } from '@hushfield/core';
import { PrismaKeyStore } from '@hushfield/prisma';
import { createHarness, rejection, type Harness } from './support';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

/**
 * A key store whose insert fails for `failing` once every other tenant's insert has started,
 * and whose other inserts take a while: the failure comes while they are in flight.
 */
class FailingWhileOthersRun extends PrismaKeyStore {
  inFlight = 0;
  readonly #failing: string;
  readonly #others: number;
  readonly #othersStarted: Promise<void>;
  #started!: () => void;

  constructor(client: unknown, failing: string, others: number) {
    super(client);
    this.#failing = failing;
    this.#others = others;
    this.#othersStarted = new Promise((resolve) => (this.#started = resolve));
  }

  override async insert(key: NewStoredKey): Promise<StoredKey> {
    if (key.scope === this.#failing) {
      await this.#othersStarted;
      throw new KeyStoreError('the key store transaction timed out (simulated)', key, {});
    }
    this.inFlight++;
    if (this.inFlight === this.#others) this.#started();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return await super.insert(key);
    } finally {
      this.inFlight--;
    }
  }
}

it('a createMany whose key creation fails for one tenant rejects after the other tenants’ key creations settled, and nothing queries the client after its disconnect', async () => {
  const tenants = ['a', 'b', 'c'].map((name) => `settle-${name}-${randomBytes(3).toString('hex')}`);
  const store = new FailingWhileOthersRun(h.base, tenants[2], 2);
  const fresh = h.fresh({ keyStore: store });
  const error = await rejection(
    fresh.prisma.user.createMany({
      data: tenants.map((tenantId) => ({ tenantId, name: tenantId, email: `owner@${tenantId}.example.com` })),
    }),
  );
  expect(error).toBeInstanceOf(KeyStoreError);
  expect(store.inFlight).toBe(0);

  // What the application does on the failure: close the client. Nothing may query it afterwards.
  await fresh.base.$disconnect();
  const sent = fresh.queries.length;
  await new Promise((resolve) => setTimeout(resolve, 600));
  expect(fresh.queries.slice(sent).map((q) => q.query)).toEqual([]);
});
