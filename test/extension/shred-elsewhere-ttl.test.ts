/**
 * A scope shredded by another process stops decrypting in a running client within its cache
 * TTL (README, "Crypto-shredding": "other processes stop decrypting when their cache entry
 * expires (at most cache.ttlMs)"), also when the client's key cache retires keys early
 * (`maxUses`) while it keeps writing to that scope.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { KeyDestroyedError } from '@hushfield/core';
import { createHarness, rejection, type Harness } from './support';

const TTL = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('shred by another client while the application keeps writing', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ cache: { ttlMs: TTL, maxUses: 2 } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('reads of the shredded scope fail once the TTL has passed since the shred', async () => {
    const app = h.prisma;
    const admin = h.fresh().prisma;
    await admin.user.count(); // connected before the clock starts
    const create = (email: string) =>
      app.user.create({
        data: { tenantId: 'ttl-a', name: 'n', email, emailIdx: computedBlindIndex, ssn: '123-45-6789' },
      });
    const first = await create('first@ttl.test'); // pointer and key of ttl-a cached
    await admin.$hushfield.crypto.keys.destroyScope('ttl-a'); // the CLI / another process
    const shredAt = performance.now();
    await sleep(TTL * 0.6);
    // Still within the TTL: the application keeps writing (allowed), its key retires (maxUses).
    for (const i of [1, 2, 3]) await rejection(create(`w${i}@ttl.test`));
    await sleep(shredAt + TTL + 300 - performance.now()); // past the TTL since the shred
    const read = await rejection(app.user.findUnique({ where: { id: first.id } }));
    expect(read).toBeInstanceOf(KeyDestroyedError);
  });
});
