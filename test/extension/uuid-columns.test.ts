/**
 * Ids and scopes in PostgreSQL `uuid` columns (`Device`): the database returns any UUID form
 * written in canonical lower case, so the extension binds (row id) and picks keys by (scope)
 * that form. A caller's upper-case or brace-wrapped UUID used to seal values for a form the
 * row never reads back, leaving them unreadable.
 */
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '@hushfield/core';
import { createHarness, expectNoPlaintextIn, type Harness, isEnvelope } from './support';

let h: Harness;
const secrets = ['SN-UPPER-0001', 'SN-BRACES-0002', 'SN-MOVED-0003', 'SN-BAD-0004'];

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await expectNoPlaintextIn(h.db, 'devices', secrets);
  await h.close();
});

it('reads back a row created with an upper-case id and scope, from a fresh client', async () => {
  const id = randomUUID();
  const tenant = randomUUID();
  const created = await h.prisma.device.create({
    data: { id: id.toUpperCase(), tenantId: tenant.toUpperCase(), serial: 'SN-UPPER-0001' },
  });
  expect(created).toEqual({ id, tenantId: tenant, serial: 'SN-UPPER-0001' });
  const [stored] = await h.db.query<{ serial: string }>('SELECT serial FROM devices WHERE id = $1', [id]);
  expect(isEnvelope(stored.serial)).toBe(true);
  expect(await h.fresh().prisma.device.findUnique({ where: { id } })).toEqual({
    id,
    tenantId: tenant,
    serial: 'SN-UPPER-0001',
  });
  // the key belongs to the scope as the row holds it
  const keys = await h.db.query<{ scope: string }>('SELECT scope FROM hushfield_keys WHERE scope = $1', [tenant]);
  expect(keys.length).toBeGreaterThan(0);
});

it('binds the canonical form of a brace-wrapped id without hyphens', async () => {
  const id = randomUUID();
  const tenant = randomUUID();
  await h.prisma.device.create({
    data: { id: `{${id.replace(/-/g, '').toUpperCase()}}`, tenantId: tenant, serial: 'SN-BRACES-0002' },
  });
  expect((await h.fresh().prisma.device.findUnique({ where: { id } }))?.serial).toBe('SN-BRACES-0002');
});

it('re-encrypts under the canonical scope when an update moves the row with an upper-case scope', async () => {
  const device = await h.prisma.device.create({ data: { tenantId: randomUUID(), serial: 'SN-MOVED-0003' } });
  const target = randomUUID();
  await h.prisma.device.update({ where: { id: device.id }, data: { tenantId: target.toUpperCase() } });
  expect(await h.fresh().prisma.device.findUnique({ where: { id: device.id } })).toEqual({
    id: device.id,
    tenantId: target,
    serial: 'SN-MOVED-0003',
  });
  // sealed under the key of the scope the row holds, not of the form the caller wrote
  const scopes = (
    await h.db.query<{ scope: string }>('SELECT DISTINCT scope FROM hushfield_keys WHERE lower(scope) = $1', [target])
  ).map((r) => r.scope);
  expect(scopes).toEqual([target]);
});

it('refuses an id that is not a UUID with a typed error before anything is sent', async () => {
  const fresh = h.fresh();
  await expect(
    fresh.prisma.device.create({ data: { id: 'not-a-uuid', tenantId: randomUUID(), serial: 'SN-BAD-0004' } }),
  ).rejects.toBeInstanceOf(InvalidArgumentError);
  expect(fresh.queries.filter((q) => q.query.includes('"devices"'))).toEqual([]);
});
