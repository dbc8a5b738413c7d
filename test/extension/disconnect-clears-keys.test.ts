/**
 * Closing an extended client (`$disconnect()`) zeroes the keys its crypto cached and stops their
 * expiry timers: before, both outlived the client for the cache's TTL (five minutes by default),
 * and the timers kept the crypto, its key store and client reachable all that time. A client
 * used again after `$disconnect()` reconnects (as Prisma's do) and loads its keys again. A
 * `crypto` given in the options may serve other clients: closing one client leaves it as it is,
 * and so does closing the client whose crypto another client (on another base client) was given.
 */
import { randomBytes } from 'node:crypto';
import { FieldCrypto } from '@hushfield/core';
import { fieldEncryption, PrismaKeyStore } from '@hushfield/prisma';
import { createHarness, expectNoPlaintextIn, type Harness, hushfieldSchema } from './support';

let h: Harness;
const tenant = `disconnect-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await expectNoPlaintextIn(h.db, 'users', ['first@disconnect.example.com']);
  await h.close();
});

test("$disconnect() empties the extension's key cache, and the client reads again afterwards", async () => {
  const client = h.fresh();
  await client.prisma.user.create({
    data: { tenantId: tenant, name: 'first', email: 'first@disconnect.example.com', notes: 'n' },
  });
  expect(client.prisma.$hushfield.stats().entries).toBeGreaterThan(0);
  const callsBefore = client.prisma.$hushfield.stats().keyringCalls;

  await client.prisma.$disconnect();
  expect(client.prisma.$hushfield.stats().entries).toBe(0);

  const read = await client.prisma.user.findFirst({ where: { tenantId: tenant, name: 'first' } });
  expect(read?.email).toBe('first@disconnect.example.com');
  // The scope key was loaded again: it was no longer cached.
  expect(client.prisma.$hushfield.stats().keyringCalls).toBeGreaterThan(callsBefore);
  expect(client.prisma.$hushfield.stats().entries).toBeGreaterThan(0);
});

test('a crypto given in the options keeps its cache when one of its clients disconnects', async () => {
  const { base } = h.fresh();
  const crypto = new FieldCrypto({
    keyring: h.keyring,
    keyStore: new PrismaKeyStore(base),
    cache: { ttlMs: 60_000 },
  });
  try {
    const shared = base.$extends(fieldEncryption({ schema: hushfieldSchema, crypto }));
    await shared.user.create({
      data: { tenantId: `${tenant}-shared`, name: 'shared', email: 'shared@disconnect.example.com', notes: 'n' },
    });
    const entries = crypto.stats().entries;
    expect(entries).toBeGreaterThan(0);
    await shared.$disconnect();
    expect(crypto.stats().entries).toBe(entries);
  } finally {
    crypto.clearCaches();
  }
  expect(crypto.stats().entries).toBe(0);
});

test("closing a client whose crypto a sibling client shares leaves the sibling's keys cached", async () => {
  const owner = h.fresh();
  const sibling = h
    .fresh()
    .base.$extends(fieldEncryption({ schema: hushfieldSchema, crypto: owner.prisma.$hushfield.crypto }));
  await sibling.user.create({
    data: { tenantId: `${tenant}-sibling`, name: 'sibling', email: 'sibling@disconnect.example.com', notes: 'n' },
  });
  const entries = owner.prisma.$hushfield.stats().entries;
  expect(entries).toBeGreaterThan(0);
  await owner.prisma.$disconnect();
  expect(sibling.$hushfield.stats().entries).toBe(entries);
  owner.prisma.$hushfield.crypto.clearCaches();
});
