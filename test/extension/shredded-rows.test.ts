/**
 * Rows after their scope was shredded (issue 11): a read across tenants throws unless
 * `onDecryptError: 'null'`; a `delete` removes the row and returns it with its unreadable
 * encrypted fields as `null`, never reporting failure for a row it removed.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { KeyDestroyedError } from '@hushfield/core';
import { createHarness, type Harness, isEnvelope } from './support';

type Row = Record<string, string | null>;

describe('fieldEncryption: rows of a shredded scope', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  async function userIn(tenantId: string, email: string) {
    return h.prisma.user.create({
      data: { tenantId, name: tenantId, email, emailIdx: computedBlindIndex, ssn: '123-45-6789', notes: 'private' },
    });
  }

  it('a read across tenants after a shred throws KeyDestroyedError, or reads the shredded values as null with onDecryptError: null', async () => {
    await userIn('shred-a', 'a@shred.test');
    const kept = await userIn('shred-b', 'b@shred.test');
    await h.prisma.$hushfield.crypto.keys.destroyScope('shred-a');
    const all = { where: { tenantId: { in: ['shred-a', 'shred-b'] } }, orderBy: { tenantId: 'asc' as const } };
    await expect(h.prisma.user.findMany(all)).rejects.toBeInstanceOf(KeyDestroyedError);
    const lenient = h.fresh({ onDecryptError: 'null' }).prisma;
    const rows = await lenient.user.findMany(all);
    expect(rows.map((row) => [row.tenantId, row.email, row.ssn, row.notes])).toEqual([
      ['shred-a', null, null, null],
      ['shred-b', 'b@shred.test', '123-45-6789', 'private'],
    ]);
    expect(rows[1].id).toBe(kept.id);
  });

  it('delete of a shredded row removes it and returns it with its encrypted fields as null', async () => {
    const doomed = await userIn('shred-c', 'c@shred.test');
    await h.prisma.$hushfield.crypto.keys.destroyScope('shred-c');
    const keys = await h.db.query<Row>(
      "SELECT state, wrapped_key FROM hushfield_keys WHERE kind = 'scope' AND scope = 'shred-c'",
    );
    expect(keys).toEqual([{ state: 'destroyed', wrapped_key: null }]);
    const [stored] = await h.db.query<Row>('SELECT email FROM users WHERE id = $1', [doomed.id]);
    expect(isEnvelope(stored.email)).toBe(true);

    const deleted = await h.prisma.user.delete({ where: { id: doomed.id } });
    expect(deleted).toMatchObject({
      id: doomed.id,
      tenantId: 'shred-c',
      name: 'shred-c',
      email: null,
      ssn: null,
      notes: null,
    });
    expect(await h.db.query('SELECT id FROM users WHERE id = $1', [doomed.id])).toEqual([]);
    // The key table keeps the destroyed version (no material): values in backups stay unreadable.
    expect(
      await h.db.query<Row>("SELECT state, wrapped_key FROM hushfield_keys WHERE kind = 'scope' AND scope = 'shred-c'"),
    ).toEqual(keys);
  });

  it('delete by a blind index, with a select, and in an interactive transaction, all succeed after a shred', async () => {
    const byIndex = await userIn('shred-d', 'd@shred.test');
    const selected = await userIn('shred-d', 'd2@shred.test');
    const inTx = await userIn('shred-d', 'd3@shred.test');
    await h.prisma.$hushfield.crypto.keys.destroyScope('shred-d');
    expect(await h.prisma.user.delete({ where: { emailIdx: 'd@shred.test' } })).toMatchObject({
      id: byIndex.id,
      email: null,
    });
    expect(await h.prisma.user.delete({ where: { id: selected.id }, select: { email: true, name: true } })).toEqual({
      email: null,
      name: 'shred-d',
    });
    const removed = await h.prisma.$transaction((tx) => tx.user.delete({ where: { id: inTx.id } }));
    expect(removed).toMatchObject({ id: inTx.id, email: null });
    expect(await h.db.query('SELECT id FROM users WHERE "tenantId" = \'shred-d\'')).toEqual([]);
  });

  it('delete of a readable row still returns its plaintext', async () => {
    const user = await userIn('shred-e', 'e@shred.test');
    expect(await h.prisma.user.delete({ where: { id: user.id } })).toMatchObject({
      email: 'e@shred.test',
      ssn: '123-45-6789',
    });
  });

  it('deleting a shredded organization cascades to its members and returns it with legalName null', async () => {
    const org = await h.prisma.organization.create({
      data: {
        slug: 'shredded-org',
        legalName: 'Gone Ltd',
        members: { create: { email: 'm@gone.test', emailIdx: computedBlindIndex } },
      },
    });
    await h.prisma.$hushfield.crypto.keys.destroyScope(org.id);
    await expect(h.prisma.member.findMany({ where: { orgId: org.id } })).rejects.toBeInstanceOf(KeyDestroyedError);
    expect(await h.prisma.organization.delete({ where: { slug: 'shredded-org' } })).toMatchObject({
      id: org.id,
      legalName: null,
    });
    expect(await h.db.query('SELECT id FROM members WHERE org_id = $1', [org.id])).toEqual([]);
  });
});
