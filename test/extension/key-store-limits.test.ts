/**
 * `new PrismaKeyStore(prisma, { maxWaitMs, timeoutMs })` given to `fieldEncryption` over that
 * same client is the default store (it joins the client's interactive transactions): the limits
 * it was given must still be those its key creations run under, as the README says.
 */
import { randomBytes } from 'node:crypto';
import { fieldEncryption, PrismaKeyStore } from '@hushfield/prisma';
import { createHarness, type Harness, hushfieldSchema } from './support';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

it('creates the keys of a PrismaKeyStore given over the extended client with the maxWaitMs and timeoutMs it was given', async () => {
  const { base } = h.fresh();
  const seen: unknown[] = [];
  const transaction = base.$transaction.bind(base) as (...args: unknown[]) => Promise<unknown>;
  Object.assign(base, {
    $transaction: (...args: unknown[]) => {
      if (typeof args[0] === 'function') seen.push(args[1]);
      return transaction(...args);
    },
  });
  const keyStore = new PrismaKeyStore(base, { maxWaitMs: 12_345, timeoutMs: 6_789 });
  const prisma = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring, keyStore }));
  const tenantId = `limits-${randomBytes(3).toString('hex')}`;
  await prisma.user.create({ data: { tenantId, name: 'ada', email: `ada@${tenantId}.example.com` } });
  // The tenant's first key, created in the key store's own transaction.
  expect(seen).toContainEqual(expect.objectContaining({ maxWait: 12_345, timeout: 6_789 }));
  expect(seen).not.toContainEqual(expect.objectContaining({ maxWait: 10_000 }));
});
