/**
 * Per-scope blind indexes (`@blindIndex(..., perScope: true)`, issue 22 item 1) on PostgreSQL:
 * index values keyed by each organization's scope key, lookups that must name the scope
 * (refused before any query otherwise), and a shred after which the organization's index
 * values match nothing and cannot be recomputed, even with the root key and the shared index key.
 */
import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring, UnsupportedQueryError } from '@hushfield/core';
import { blindIndexSpec, computedBlindIndex, PrismaKeyStore } from '@hushfield/prisma';
import {
  CountingKeyring,
  createHarness,
  expectNoPlaintextIn,
  expectNoPlaintextInLog,
  type Harness,
  hushfieldSchema,
} from './support';

type Row = Record<string, string | null>;
const contactModel = hushfieldSchema.models.Contact;
const emailSpec = blindIndexSpec(contactModel, contactModel.blindIndexes.emailIdx);

describe('fieldEncryption: per-scope blind indexes', () => {
  let h: Harness;
  const keyring = new CountingKeyring(new LocalKeyring(randomBytes(32)));

  beforeAll(async () => {
    h = await createHarness({ keyring });
  });
  afterAll(async () => {
    await h.close();
  });

  async function org(slug: string): Promise<string> {
    return (await h.prisma.organization.create({ data: { slug } })).id;
  }
  async function contact(orgId: string, email: string, phone?: string) {
    return h.prisma.contact.create({
      data: { orgId, email, emailIdx: computedBlindIndex, ...(phone === undefined ? {} : { phone }) },
    });
  }
  async function stored(id: string): Promise<Row> {
    const [row] = await h.db.query<Row>('SELECT org_id, email, email_idx, phone_idx FROM contacts WHERE id = $1', [id]);
    return row;
  }

  it("writes index values keyed by the row's scope: one email, two organizations, two values, both marked per scope", async () => {
    const [a, b] = [await org('ps-a'), await org('ps-b')];
    const inA = await contact(a, 'ada@example.com', '+1 555 0100');
    const inB = await contact(b, 'Ada@Example.com');
    const [rowA, rowB] = [await stored(inA.id), await stored(inB.id)];
    expect(rowA.email_idx).toMatch(/^s1\.n1\.[A-Za-z0-9_-]{43}$/);
    expect(rowA.phone_idx).toMatch(/^s1\.n1\.[A-Za-z0-9_-]{3}$/);
    expect(rowB.email_idx).toMatch(/^s1\.n1\./);
    expect(rowA.email_idx).not.toBe(rowB.email_idx);
    // The shared index of the same model, field and name gives neither.
    const shared = await h.prisma.$hushfield.crypto.blindIndexAll({ ...emailSpec, perScope: false }, 'ada@example.com');
    expect(shared).not.toContain(rowA.email_idx);
    expect(shared).not.toContain(rowB.email_idx);
    await expectNoPlaintextIn(h.db, 'contacts', [
      'ada@example.com',
      'Ada@Example.com',
      '+1 555 0100',
      '15550100',
      '555 0100',
    ]);
  });

  it('finds rows by equality, in, compound unique and truncated index when the where names the organization', async () => {
    const a = await org('ps-find');
    const ada = await contact(a, 'ada@find.test', '555-0101');
    await contact(a, 'bob@find.test', '555-0102');
    const sent = h.queries.length;
    expect((await h.prisma.contact.findFirst({ where: { orgId: a, email: '  ADA@find.test ' } }))?.id).toBe(ada.id);
    expect(
      (await h.prisma.contact.findMany({ where: { orgId: a, email: { in: ['ada@find.test', 'bob@find.test'] } } }))
        .length,
    ).toBe(2);
    expect(
      (await h.prisma.contact.findUnique({ where: { orgId_emailIdx: { orgId: a, emailIdx: 'ada@find.test' } } }))?.id,
    ).toBe(ada.id);
    expect((await h.prisma.contact.findMany({ where: { orgId: a, phone: '(555) 0101' } })).map((c) => c.id)).toEqual([
      ada.id,
    ]);
    expect(await h.prisma.contact.count({ where: { AND: [{ orgId: a }], NOT: { email: 'ada@find.test' } } })).toBe(1);
    expectNoPlaintextInLog(h.queries.slice(sent), ['ada@find.test', 'bob@find.test', '0101']);
  });

  it('refuses a lookup that does not name the scope, before any query is sent', async () => {
    const a = await org('ps-refuse');
    await contact(a, 'eve@refuse.test');
    const sent = h.queries.length;
    const refused = [
      () => h.prisma.contact.findFirst({ where: { email: 'eve@refuse.test' } }),
      () => h.prisma.contact.findMany({ where: { OR: [{ orgId: a }, { email: 'eve@refuse.test' }] } }),
      () => h.prisma.contact.count({ where: { orgId: { in: [a] }, email: 'eve@refuse.test' } }),
      () => h.prisma.contact.updateMany({ where: { email: 'eve@refuse.test' }, data: { phone: null } }),
      () => h.prisma.contact.deleteMany({ where: { phone: '555' } }),
      () => h.prisma.organization.findMany({ where: { contacts: { some: { email: 'eve@refuse.test' } } } }),
      () =>
        h.prisma.organization.findFirst({
          where: { id: a },
          include: { contacts: { where: { email: 'eve@refuse.test' } } },
        }),
    ];
    for (const query of refused) {
      const error = await query().then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(UnsupportedQueryError);
      expect((error as Error).message).toContain('the same where must give Contact.orgId one value');
      expect(JSON.stringify({ ...(error as object), message: (error as Error).message })).not.toContain('refuse.test');
    }
    expect(h.queries.length).toBe(sent);
    expect(await h.prisma.contact.count({ where: { orgId: a } })).toBe(1);
  });

  it('nested creates and relation filters go through the same path', async () => {
    const created = await h.prisma.organization.create({
      data: {
        slug: 'ps-nested',
        contacts: { create: [{ email: 'nia@nested.test', emailIdx: computedBlindIndex, phone: '555 0199' }] },
      },
      include: { contacts: true },
    });
    const [row] = created.contacts;
    expect(row.email).toBe('nia@nested.test');
    expect((await stored(row.id)).email_idx).toMatch(/^s1\./);
    const found = await h.prisma.organization.findFirst({
      where: { contacts: { some: { orgId: created.id, email: 'NIA@nested.test' } } },
      include: { contacts: { where: { orgId: created.id, email: 'nia@nested.test' } } },
    });
    expect(found?.id).toBe(created.id);
    expect(found?.contacts.map((c) => c.id)).toEqual([row.id]);
    await h.prisma.organization.update({
      where: { id: created.id },
      data: {
        contacts: {
          update: {
            where: { orgId_emailIdx: { orgId: created.id, emailIdx: 'nia@nested.test' } },
            data: { email: 'nia2@nested.test' },
          },
        },
      },
    });
    expect((await h.prisma.contact.findFirst({ where: { orgId: created.id, email: 'nia2@nested.test' } }))?.id).toBe(
      row.id,
    );
    expect(await h.prisma.contact.findFirst({ where: { orgId: created.id, email: 'nia@nested.test' } })).toBeNull();
  });

  it("a per-scope index value copied to another organization's row matches nothing there", async () => {
    const [a, b] = [await org('ps-copy-a'), await org('ps-copy-b')];
    const victim = await contact(a, 'vic@copy.test');
    const decoy = await contact(b, 'decoy@copy.test');
    const victimIdx = (await stored(victim.id)).email_idx;
    await h.db.query('UPDATE contacts SET email_idx = $1 WHERE id = $2', [victimIdx, decoy.id]);
    expect(await h.prisma.contact.findFirst({ where: { orgId: b, email: 'vic@copy.test' } })).toBeNull();
    expect(await h.prisma.contact.findMany({ where: { orgId: b, email: { in: ['vic@copy.test'] } } })).toEqual([]);
    // And the row it came from still answers in its own organization.
    expect((await h.prisma.contact.findFirst({ where: { orgId: a, email: 'vic@copy.test' } }))?.id).toBe(victim.id);
  });

  it("a key-store row relabelled to another organization does not lend it that organization's cached key", async () => {
    const [a, b] = [await org('ps-relabel-a'), await org('ps-relabel-b')];
    const victim = await contact(a, 'rel@relabel.test'); // a's key is now cached
    // Written by another process: this one has read nothing of b's keys (a write reads the
    // scope's live versions, for the unique check across them, and would cache b's own).
    const decoy = await h.fresh().prisma.contact.create({
      data: { orgId: b, email: 'decoy@relabel.test', emailIdx: computedBlindIndex },
    });
    await h.db.query('UPDATE contacts SET org_id = $1, email_idx = $2 WHERE id = $3', [
      b,
      (await stored(victim.id)).email_idx,
      decoy.id,
    ]);
    // b's own key rows are hidden and a's row is relabelled as b's: a lookup in b must not be
    // computed with a's cached key (it would match the copied value).
    await h.db.query(`UPDATE hushfield_keys SET scope = 'hidden' WHERE scope = $1`, [b]);
    await h.db.query('UPDATE hushfield_keys SET scope = $1 WHERE scope = $2', [b, a]);
    try {
      await expect(h.prisma.contact.findFirst({ where: { orgId: b, email: 'rel@relabel.test' } })).rejects.toThrow();
    } finally {
      await h.db.query('UPDATE hushfield_keys SET scope = $1 WHERE scope = $2', [a, b]);
      await h.db.query(`UPDATE hushfield_keys SET scope = $1 WHERE scope = 'hidden'`, [b]);
    }
  });

  it('an update recomputes the index under the row’s scope, and moving the row to another organization re-keys it', async () => {
    const [a, b] = [await org('ps-move-a'), await org('ps-move-b')];
    const row = await contact(a, 'max@move.test');
    await h.prisma.contact.update({ where: { id: row.id }, data: { email: 'max2@move.test' } });
    expect((await h.prisma.contact.findFirst({ where: { orgId: a, email: 'max2@move.test' } }))?.id).toBe(row.id);
    const before = (await stored(row.id)).email_idx;
    await h.prisma.contact.update({ where: { id: row.id }, data: { orgId: b } });
    const after = await stored(row.id);
    expect(after.org_id).toBe(b);
    expect(after.email_idx).not.toBe(before);
    expect((await h.prisma.contact.findFirst({ where: { orgId: b, email: 'max2@move.test' } }))?.id).toBe(row.id);
    expect(await h.prisma.contact.findFirst({ where: { orgId: a, email: 'max2@move.test' } })).toBeNull();
  });

  it("matches every live version of the organization's key after a rotation", async () => {
    const a = await org('ps-rotate');
    const old = await contact(a, 'old@rotate.test');
    await h.prisma.$hushfield.crypto.keys.rotateScope(a);
    const fresh = await contact(a, 'new@rotate.test');
    expect((await stored(old.id)).email_idx).toMatch(/^s1\./);
    expect((await stored(fresh.id)).email_idx).toMatch(/^s2\./);
    expect((await h.prisma.contact.findFirst({ where: { orgId: a, email: 'old@rotate.test' } }))?.id).toBe(old.id);
    expect(
      (await h.prisma.contact.findUnique({ where: { orgId_emailIdx: { orgId: a, emailIdx: 'old@rotate.test' } } }))?.id,
    ).toBe(old.id);
    expect((await h.prisma.contact.findFirst({ where: { orgId: a, email: 'new@rotate.test' } }))?.id).toBe(fresh.id);
  });

  it('groups by the index within one organization, and refuses a grouping that could span organizations', async () => {
    const [a, b] = [await org('ps-group-a'), await org('ps-group-b')];
    await contact(a, 'ada@group.test');
    await contact(a, 'bob@group.test');
    await contact(b, ' ADA@group.test');
    // One email in two organizations has two index values: grouping by the index alone would
    // return two groups for it. Refused before any query is sent.
    const sent = h.queries.length;
    await expect(
      h.prisma.contact.groupBy({ by: ['emailIdx'], where: { orgId: { in: [a, b] } }, _count: { _all: true } }),
    ).rejects.toMatchObject({ name: UnsupportedQueryError.name, model: 'Contact', field: 'emailIdx' });
    await expect(h.prisma.contact.findMany({ distinct: ['emailIdx'] })).rejects.toBeInstanceOf(UnsupportedQueryError);
    expect(h.queries.length).toBe(sent);
    // With the organization grouped by too, or one organization in the where, groups stay within it.
    const groups = await h.prisma.contact.groupBy({
      by: ['orgId', 'emailIdx'],
      where: { orgId: { in: [a, b] } },
      _count: { _all: true },
    });
    expect(groups.map((group) => [group.orgId, group._count._all]).sort()).toEqual(
      [
        [a, 1],
        [a, 1],
        [b, 1],
      ].sort(),
    );
    const distinct = await h.prisma.contact.findMany({ where: { orgId: a }, distinct: ['emailIdx'] });
    expect(distinct.map((row) => row.email).sort()).toEqual(['ada@group.test', 'bob@group.test']);
  });

  it("allows a nested distinct by the index along the organization's own relation: one parent's rows share its scope", async () => {
    // What makes it sound: Prisma applies a nested distinct per parent. Two users with a post
    // titled alike each keep theirs (were it applied across parents, one would lose it).
    const users = await Promise.all(
      ['one', 'two'].map((name) =>
        h.prisma.user.create({
          data: {
            tenantId: 'ps-distinct',
            name,
            email: `${name}@distinct.test`,
            emailIdx: computedBlindIndex,
            posts: { create: [{ title: 'same title', body: 'b' }] },
          },
        }),
      ),
    );
    const loaded = await h.prisma.user.findMany({
      where: { id: { in: users.map((user) => user.id) } },
      include: { posts: { distinct: ['title'] } },
    });
    expect(loaded.map((user) => user.posts.length)).toEqual([1, 1]);

    const [a, b] = [await org('ps-nested-a'), await org('ps-nested-b')];
    await contact(a, 'ada@nested.test');
    await contact(a, 'bob@nested.test');
    await contact(b, ' ADA@nested.test');
    const orgs = await h.prisma.organization.findMany({
      where: { id: { in: [a, b] } },
      orderBy: { slug: 'asc' },
      include: { contacts: { distinct: ['emailIdx'] } },
    });
    expect(orgs.map((o) => o.contacts.map((c) => c.email).sort())).toEqual([
      ['ada@nested.test', 'bob@nested.test'],
      [' ADA@nested.test'],
    ]);
  });

  it('costs no keyring call per row or lookup once the scope key is cached', async () => {
    const a = await org('ps-calls');
    await contact(a, 'warm@calls.test');
    const before = keyring.calls;
    for (let i = 0; i < 20; i++) {
      await contact(a, `user${i}@calls.test`, `555 01${i}`);
      await h.prisma.contact.findFirst({ where: { orgId: a, email: `user${i}@calls.test` } });
    }
    expect(keyring.calls).toBe(before);
  });

  it('after a shred the organization’s index values match nothing and cannot be recomputed, even with the root key', async () => {
    const [doomed, kept] = [await org('ps-shred'), await org('ps-kept')];
    const victim = await contact(doomed, 'gone@shred.test', '555 0111');
    await contact(kept, 'gone@shred.test');
    const storedIdx = (await stored(victim.id)).email_idx as string;
    await h.prisma.$hushfield.crypto.keys.destroyScope(doomed);

    const lookups = (client: typeof h.prisma) => [
      client.contact.findFirst({ where: { orgId: doomed, email: 'gone@shred.test' } }),
      client.contact.findUnique({ where: { orgId_emailIdx: { orgId: doomed, emailIdx: 'gone@shred.test' } } }),
      client.contact.findFirst({ where: { orgId: doomed, phone: '5550111' } }),
    ];
    expect(await Promise.all(lookups(h.prisma))).toEqual([null, null, null]);
    expect(await h.prisma.contact.count({ where: { orgId: doomed, email: 'gone@shred.test' } })).toBe(0);
    // Another process, with cold caches, the same root key and the same key store:
    const other = h.fresh();
    expect(await Promise.all(lookups(other.prisma))).toEqual([null, null, null]);
    // The row is still there; the other organization's twin still answers.
    expect(await h.prisma.contact.count({ where: { orgId: doomed } })).toBe(1);
    expect(await h.prisma.contact.count({ where: { orgId: kept, email: 'gone@shred.test' } })).toBe(1);

    // Whoever holds the root key and the key store (the shared index root key included) gets
    // no index value equal to the stored one: no live key of the scope, and no other key gives it.
    const crypto = new FieldCrypto({ keyring, keyStore: new PrismaKeyStore(h.base), cache: { ttlMs: 60_000 } });
    expect(await crypto.blindIndexAll(emailSpec, 'gone@shred.test', doomed)).toEqual([]);
    const others = [
      ...(await crypto.blindIndexAll({ ...emailSpec, perScope: false }, 'gone@shred.test')),
      ...(await crypto.blindIndexAll(emailSpec, 'gone@shred.test', kept)),
    ];
    expect(others).not.toContain(storedIdx);
    const keys = await h.db.query<Row>('SELECT state, wrapped_key FROM hushfield_keys WHERE scope = $1', [doomed]);
    expect(keys).toEqual([{ state: 'destroyed', wrapped_key: null }]);
  });
});
