/**
 * A cold read of rows in many scopes looks their scope keys up in the key store together: one
 * query, not one a scope (each was a round trip, and on a pool of ten connections a read of a
 * hundred tenants queued behind itself). Each key is still unwrapped and checked on its own.
 * A `createMany` across tenants looks their active keys up together the same way.
 */
import { randomBytes } from 'node:crypto';
import { KeyStoreError } from '@hushfield/core';
import { PrismaKeyStore } from '@hushfield/prisma';
import { createHarness, expectNoPlaintextIn, type Harness } from './support';

let h: Harness;
const tenants = Array.from({ length: 6 }, (_, i) => `cold-${i}-${randomBytes(3).toString('hex')}`);
const emailOf = (tenant: string) => `owner@${tenant}.example.com`;
/** Every email written, none of which may be stored in plaintext. */
const emails = tenants.map(emailOf);

beforeAll(async () => {
  h = await createHarness();
  for (const tenantId of tenants) {
    await h.prisma.user.create({ data: { tenantId, name: tenantId, email: emailOf(tenantId), notes: 'n' } });
  }
});
afterAll(async () => {
  await expectNoPlaintextIn(h.db, 'users', emails);
  await h.close();
});

const keyStoreReads = (queries: readonly { query: string }[]) =>
  queries.filter((q) => q.query.includes('hushfield_keys') && /^\s*SELECT/i.test(q.query));

it('reads the scope keys of six tenants with one key-store query', async () => {
  const fresh = h.fresh();
  const users = await fresh.prisma.user.findMany({ where: { tenantId: { in: tenants } }, orderBy: { name: 'asc' } });
  expect(users.map((user) => user.email)).toEqual([...tenants].sort().map(emailOf));
  expect(keyStoreReads(fresh.queries)).toHaveLength(1);
  expect(fresh.prisma.$hushfield.stats()).toMatchObject({ keyringCalls: tenants.length });
});

it('asks key by key when the batch lookup fails, and a failing key fails only its rows', async () => {
  const broken = tenants[2];
  class FlakyStore extends PrismaKeyStore {
    override async getVersions(): Promise<never> {
      throw new Error('Connection terminated unexpectedly');
    }
    override async getVersion(keyId: string, version: number) {
      const key = await super.getVersion(keyId, version);
      if (key?.scope === broken) throw new Error('Connection terminated unexpectedly');
      return key;
    }
  }
  const fresh = h.fresh({ onDecryptError: 'null', keyStore: new FlakyStore(h.base) });
  const error = await fresh.prisma.user.findMany({ where: { tenantId: { in: tenants } } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  // A key-store outage is never read as a value that failed to decrypt.
  expect(error).toBeInstanceOf(KeyStoreError);
  const others = await fresh.prisma.user.findMany({
    where: { tenantId: { in: tenants.filter((tenant) => tenant !== broken) } },
  });
  expect(others.map((user) => user.email).sort()).toEqual(
    tenants
      .filter((tenant) => tenant !== broken)
      .map(emailOf)
      .sort(),
  );
});

it('a createMany across tenants with keys looks their active keys up together', async () => {
  const fresh = h.fresh();
  await fresh.prisma.$hushfield.prepare();
  const before = keyStoreReads(fresh.queries).length;
  const rows = tenants.map((tenantId) => ({
    tenantId,
    name: `${tenantId}-2`,
    email: `second@${tenantId}.example.com`,
  }));
  emails.push(...rows.map((row) => row.email));
  expect(await fresh.prisma.user.createMany({ data: rows })).toEqual({ count: tenants.length });
  const reads = keyStoreReads(fresh.queries).slice(before);
  expect(reads).toHaveLength(1);
  // Each key is unwrapped on its own, once.
  expect(fresh.prisma.$hushfield.stats()).toMatchObject({ keyringCalls: 1 + tenants.length });
  const back = await h.fresh().prisma.user.findMany({ where: { name: { in: rows.map((row) => row.name) } } });
  expect(back.map((user) => user.email).sort()).toEqual(rows.map((row) => row.email).sort());
});

it('a createMany with a new tenant among known ones still creates its key on first use', async () => {
  const fresh = h.fresh();
  const newcomer = `cold-new-${randomBytes(3).toString('hex')}`;
  const rows = [...tenants.slice(0, 3), newcomer].map((tenantId) => ({
    tenantId,
    name: `${tenantId}-3`,
    email: `third@${tenantId}.example.com`,
  }));
  emails.push(...rows.map((row) => row.email));
  expect(await fresh.prisma.user.createMany({ data: rows })).toEqual({ count: rows.length });
  const keys = await h.db.query<{ state: string }>(
    `SELECT state FROM hushfield_keys WHERE kind = 'scope' AND scope = $1`,
    [newcomer],
  );
  expect(keys).toEqual([{ state: 'active' }]);
  const back = await h.fresh().prisma.user.findMany({ where: { name: { in: rows.map((row) => row.name) } } });
  expect(back.map((user) => user.email).sort()).toEqual(rows.map((row) => row.email).sort());
});

it('looks keys up together inside an interactive transaction too (through it, on one connection)', async () => {
  const fresh = h.fresh();
  const rows = tenants.map((tenantId) => ({
    tenantId,
    name: `${tenantId}-4`,
    email: `fourth@${tenantId}.example.com`,
  }));
  emails.push(...rows.map((row) => row.email));
  const read = await fresh.prisma.$transaction(async (tx) => {
    await tx.user.createMany({ data: rows });
    return tx.user.findMany({ where: { name: { in: rows.map((row) => row.name) } } });
  });
  expect(read.map((user) => user.email).sort()).toEqual(rows.map((row) => row.email).sort());
  expect(keyStoreReads(fresh.queries).filter((q) => /"?scope"? IN|`scope` IN/i.test(q.query))).toHaveLength(1);
});
