/**
 * Scopes taken from relations (issue 11): Organization (`scope: id`) → Member (`scope: orgId`,
 * through `org`) → Invoice (`scope: orgId`, through a foreign key `[memberId, orgId]` that
 * carries the organization id). Prisma's nested-write inputs have no `orgId`, so the extension
 * finds it: from the parent, from the row a connect names, or from the id it generates.
 * Asserted on what the database stores and on the key table.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { InvalidArgumentError } from '@hushfield/core';
import { createHarness, expectNoPlaintextIn, expectNoPlaintextInLog, type Harness, isEnvelope } from './support';

/** Whether `sql` names `table` as a quoted identifier (double quotes, or MySQL's backticks). */
const quotes = (sql: string, table: string): boolean => new RegExp('["`]' + table + '["`]').test(sql);

type Row = Record<string, string | null>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The key id an envelope names (`hfe$1$<keyId>$<version>$...`). */
const keyIdOf = (envelope: string | null) => (envelope as string).split('$')[2];

describe('fieldEncryption: scopes taken from relations', () => {
  let h: Harness;
  const secrets = [
    'Acme Holdings Ltd',
    'ada@acme.test',
    'bob@acme.test',
    'memo one',
    'memo two',
    'memo three',
    'Beta GmbH',
    'cy@beta.test',
    'memo four',
    'dee@beta.test',
    'Gamma SA',
    'eve@gamma.test',
    'memo five',
    'fay@delta.test',
    'Delta Co',
    'gil@delta.test',
    'memo six',
    'delta-member@delta.test',
    'eps@eps.test',
    'eps2@eps.test',
    'nobody@nowhere.test',
  ];

  beforeAll(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    for (const table of ['organizations', 'members', 'invoices']) await expectNoPlaintextIn(h.db, table, secrets);
    expectNoPlaintextInLog(h.queries, secrets);
  });
  afterAll(async () => {
    await h.close();
  });

  /** The scope-key rows of the key table, by scope. */
  async function scopeKeys(): Promise<Map<string, Row>> {
    const rows = await h.db.query<Row>("SELECT key_id, scope, state FROM hushfield_keys WHERE kind = 'scope'");
    return new Map(rows.map((row) => [row.scope as string, row]));
  }

  /** Queries logged while `run` ran. */
  async function logged(run: () => Promise<unknown>): Promise<string[]> {
    const before = h.queries.length;
    await run();
    return h.queries.slice(before).map((q) => q.query);
  }

  it('a nested create three levels deep seals every row under the organization id generated on the client', async () => {
    const org = await h.prisma.organization.create({
      data: {
        slug: 'acme',
        legalName: 'Acme Holdings Ltd',
        members: {
          create: [
            {
              email: 'ada@acme.test',
              emailIdx: computedBlindIndex,
              invoices: { create: [{ memo: 'memo one' }, { memo: 'memo two' }] },
            },
            { email: 'bob@acme.test', emailIdx: computedBlindIndex, invoices: { create: { memo: 'memo three' } } },
          ],
        },
      },
      include: { members: { include: { invoices: true } } },
    });
    expect(org.id).toMatch(UUID);
    expect(org.legalName).toBe('Acme Holdings Ltd');
    const memos = org.members.flatMap((m) => m.invoices.map((i) => i.memo)).sort();
    expect(memos).toEqual(['memo one', 'memo three', 'memo two']);

    const key = (await scopeKeys()).get(org.id);
    expect(key).toMatchObject({ state: 'active' });
    const [stored] = await h.db.query<Row>('SELECT id, legal_name FROM organizations WHERE slug = $1', ['acme']);
    expect(stored.id).toBe(org.id);
    expect(isEnvelope(stored.legal_name)).toBe(true);
    expect(keyIdOf(stored.legal_name)).toBe(key?.key_id);
    const members = await h.db.query<Row>('SELECT org_id, email FROM members');
    expect(members).toHaveLength(2);
    for (const member of members) {
      expect(member.org_id).toBe(org.id);
      expect(keyIdOf(member.email)).toBe(key?.key_id);
    }
    const invoices = await h.db.query<Row>('SELECT org_id, memo FROM invoices');
    expect(invoices).toHaveLength(3);
    for (const invoice of invoices) {
      expect(invoice.org_id).toBe(org.id);
      expect(keyIdOf(invoice.memo)).toBe(key?.key_id);
    }
    // One scope key, for the organization: nothing created under 'default' or another scope.
    expect([...(await scopeKeys()).keys()]).toEqual([org.id]);

    const fresh = await h.fresh().prisma.organization.findUniqueOrThrow({
      where: { slug: 'acme' },
      include: { members: { include: { invoices: true } } },
    });
    expect(fresh.members.flatMap((m) => m.invoices.map((i) => i.memo)).sort()).toEqual([
      'memo one',
      'memo three',
      'memo two',
    ]);
  });

  it('a nested createMany takes the scope from the parent too', async () => {
    const org = await h.prisma.organization.create({
      data: {
        slug: 'beta',
        legalName: 'Beta GmbH',
        members: { createMany: { data: [{ email: 'cy@beta.test', emailIdx: computedBlindIndex }] } },
      },
    });
    const [member] = await h.db.query<Row>('SELECT org_id, email FROM members WHERE org_id = $1', [org.id]);
    expect(keyIdOf(member.email)).toBe((await scopeKeys()).get(org.id)?.key_id);
  });

  it('connect by the referenced id takes the scope from the where, with no read', async () => {
    const org = await h.prisma.organization.findUniqueOrThrow({ where: { slug: 'beta' } });
    const queries = await logged(() =>
      h.prisma.member.create({
        data: { email: 'dee@beta.test', emailIdx: computedBlindIndex, org: { connect: { id: org.id } } },
      }),
    );
    // Prisma's own check of the connected row, and no read by the extension.
    expect(queries.filter((q) => quotes(q, 'organizations'))).toHaveLength(1);
    const [member] = await h.db.query<Row>('SELECT org_id, email FROM members WHERE org_id = $1 ORDER BY id DESC', [
      org.id,
    ]);
    expect(keyIdOf(member.email)).toBe((await scopeKeys()).get(org.id)?.key_id);
    const read = await h.fresh().prisma.member.findUniqueOrThrow({ where: { emailIdx: 'dee@beta.test' } });
    expect(read).toMatchObject({ email: 'dee@beta.test', orgId: org.id });
  });

  it('connect by another unique reads the organization id with one query, and pins the connect to it', async () => {
    const org = await h.prisma.organization.findUniqueOrThrow({ where: { slug: 'acme' } });
    const before = h.queries.length;
    const invoice = await h.prisma.invoice.create({
      data: { memo: 'memo four', member: { connect: { emailIdx: 'ada@acme.test' } } },
    });
    // The extension's read by the blind index, then Prisma's connect, pinned to the organization id.
    const reads = h.queries.slice(before).filter((q) => /^SELECT/.test(q.query) && quotes(q.query, 'members'));
    expect(reads).toHaveLength(2);
    expect(reads[1].query).toMatch(/["`]org_id["`] = [$?]/);
    expect(invoice).toMatchObject({ memo: 'memo four', orgId: org.id });
    const [stored] = await h.db.query<Row>('SELECT org_id, memo FROM invoices WHERE id = $1', [invoice.id]);
    expect(stored.org_id).toBe(org.id);
    expect(keyIdOf(stored.memo)).toBe((await scopeKeys()).get(org.id)?.key_id);

    let bySlug: { orgId: string } | undefined;
    const queries = await logged(async () => {
      bySlug = await h.prisma.member.create({
        data: { email: 'fay@delta.test', emailIdx: computedBlindIndex, org: { connect: { slug: 'beta' } } },
      });
    });
    const beta = await h.prisma.organization.findUniqueOrThrow({ where: { slug: 'beta' } });
    expect(bySlug?.orgId).toBe(beta.id);
    // The extension's read by slug, then Prisma's connect, pinned to the id the values were sealed for.
    const orgReads = queries.filter((q) => quotes(q, 'organizations'));
    expect(orgReads).toHaveLength(2);
    expect(orgReads[1]).toMatch(
      /["`]slug["`] = (\$\d+|\?) AND .*["`]id["`] = (\$\d+|\?)|["`]id["`] = (\$\d+|\?) AND .*["`]slug["`] = (\$\d+|\?)/,
    );
  });

  it('connect through a compound unique that names the scope needs no read', async () => {
    const member = await h.prisma.member.findUniqueOrThrow({ where: { emailIdx: 'bob@acme.test' } });
    const queries = await logged(() =>
      h.prisma.invoice.create({
        data: { memo: 'memo five', member: { connect: { id_orgId: { id: member.id, orgId: member.orgId } } } },
      }),
    );
    // Prisma's own check of the connected row only.
    expect(queries.filter((q) => /^SELECT/.test(q) && quotes(q, 'members'))).toHaveLength(1);
    const [stored] = await h.db.query<Row>('SELECT org_id, memo FROM invoices WHERE member_id = $1 ORDER BY id', [
      member.id,
    ]);
    expect(stored.org_id).toBe(member.orgId);
  });

  it('connectOrCreate links an existing organization or creates one with a client-generated id', async () => {
    const beta = await h.prisma.organization.findUniqueOrThrow({ where: { slug: 'beta' } });
    const existing = await h.prisma.member.create({
      data: {
        email: 'gil@delta.test',
        emailIdx: computedBlindIndex,
        org: { connectOrCreate: { where: { slug: 'beta' }, create: { slug: 'beta' } } },
      },
    });
    expect(existing.orgId).toBe(beta.id);

    const created = await h.prisma.member.create({
      data: {
        email: 'eve@gamma.test',
        emailIdx: computedBlindIndex,
        org: { connectOrCreate: { where: { slug: 'gamma' }, create: { slug: 'gamma', legalName: 'Gamma SA' } } },
      },
      include: { org: true },
    });
    expect(created.org).toMatchObject({ slug: 'gamma', legalName: 'Gamma SA' });
    expect(created.orgId).toMatch(UUID);
    const keys = await scopeKeys();
    const [org] = await h.db.query<Row>('SELECT id, legal_name FROM organizations WHERE slug = $1', ['gamma']);
    expect(org.id).toBe(created.orgId);
    expect(keyIdOf(org.legal_name)).toBe(keys.get(org.id as string)?.key_id);
    const [member] = await h.db.query<Row>('SELECT email FROM members WHERE id = $1', [created.id]);
    expect(keyIdOf(member.email)).toBe(keys.get(org.id as string)?.key_id);
  });

  it('a nested create under an update takes the scope of the updated row', async () => {
    const org = await h.prisma.organization.create({ data: { slug: 'delta', legalName: 'Delta Co' } });
    await h.prisma.organization.update({
      where: { slug: 'delta' },
      data: {
        members: {
          create: {
            email: 'delta-member@delta.test',
            emailIdx: computedBlindIndex,
            invoices: { create: { memo: 'memo six' } },
          },
        },
      },
    });
    const [invoice] = await h.db.query<Row>('SELECT org_id, memo FROM invoices WHERE org_id = $1', [org.id]);
    expect(keyIdOf(invoice.memo)).toBe((await scopeKeys()).get(org.id)?.key_id);
    const upserted = await h.prisma.organization.upsert({
      where: { slug: 'epsilon' },
      create: { slug: 'epsilon', members: { create: { email: 'eps@eps.test', emailIdx: computedBlindIndex } } },
      update: { members: { create: { email: 'eps2@eps.test', emailIdx: computedBlindIndex } } },
      include: { members: true },
    });
    expect(upserted.members.map((m) => m.email)).toEqual(['eps@eps.test']);
    expect(upserted.members[0].orgId).toBe(upserted.id);
    const again = await h.prisma.organization.upsert({
      where: { slug: 'epsilon' },
      create: { slug: 'epsilon' },
      update: { members: { create: { email: 'eps2@eps.test', emailIdx: computedBlindIndex } } },
      include: { members: { orderBy: { id: 'asc' } } },
    });
    expect(again.members.map((m) => m.email).sort()).toEqual(['eps2@eps.test', 'eps@eps.test']);
    const stored = await h.db.query<Row>('SELECT email FROM members WHERE org_id = $1', [upserted.id]);
    for (const row of stored) expect(keyIdOf(row.email)).toBe((await scopeKeys()).get(upserted.id)?.key_id);
  });

  it('never moves an existing row to another scope through the parent side of its scope relation', async () => {
    const beta = await h.prisma.organization.findUniqueOrThrow({ where: { slug: 'beta' } });
    const ada = await h.prisma.member.findUniqueOrThrow({ where: { emailIdx: 'ada@acme.test' } });
    // connect would rewrite ada's org_id with her values still under acme's key: refused, nothing sent
    const queries = await logged(() =>
      expect(
        h.prisma.organization.update({ where: { id: beta.id }, data: { members: { connect: { id: ada.id } } } }),
      ).rejects.toMatchObject({
        code: 'HUSHFIELD_UNSUPPORTED_QUERY',
        message: expect.stringContaining('would set Member.orgId of existing rows'),
      }),
    );
    expect(queries).toEqual([]);
    // connectOrCreate links only a row already in the scope: ada is not, so it tries to create her again
    await expect(
      h.prisma.organization.update({
        where: { id: beta.id },
        data: {
          members: {
            connectOrCreate: {
              where: { emailIdx: 'ada@acme.test' },
              create: { email: 'ada@acme.test', emailIdx: computedBlindIndex },
            },
          },
        },
      }),
    ).rejects.toMatchObject({ code: 'P2002' });
    const [row] = await h.db.query<Row>('SELECT org_id FROM members WHERE id = $1', [ada.id]);
    expect(row.org_id).toBe(ada.orgId);
    // ... and one that is there is linked as before
    const cy = await h.prisma.member.findUniqueOrThrow({ where: { emailIdx: 'cy@beta.test' } });
    const linked = await h.prisma.organization.update({
      where: { id: beta.id },
      data: {
        members: {
          connectOrCreate: {
            where: { emailIdx: 'cy@beta.test' },
            create: { email: 'cy@beta.test', emailIdx: computedBlindIndex },
          },
        },
      },
      include: { members: true },
    });
    expect(linked.members.map((m) => m.id)).toContain(cy.id);
  });

  it('never lets a cascading foreign-key update move rows to another scope under their old key', async () => {
    const beta = await h.prisma.organization.findUniqueOrThrow({ where: { slug: 'beta' } });
    const ada = await h.prisma.member.findUniqueOrThrow({ where: { emailIdx: 'ada@acme.test' } });
    const invoicesBefore = await h.db.query<Row>('SELECT id, org_id, memo FROM invoices WHERE member_id = $1', [
      ada.id,
    ]);
    expect(invoicesBefore.length).toBeGreaterThan(0);
    // Moving ada would cascade to her invoices' org_id (their scope) through [memberId, orgId].
    for (const move of [
      () => h.prisma.member.update({ where: { id: ada.id }, data: { orgId: beta.id } }),
      () => h.prisma.member.updateMany({ where: { id: ada.id }, data: { orgId: beta.id } }),
      () => h.prisma.organization.update({ where: { id: ada.orgId }, data: { id: 'renamed-org' } }),
    ]) {
      const queries = await logged(() =>
        expect(move()).rejects.toMatchObject({
          code: 'HUSHFIELD_UNSUPPORTED_QUERY',
          message: expect.stringContaining('moving them to another encryption scope'),
        }),
      );
      expect(queries).toEqual([]);
    }
    expect(await h.db.query<Row>('SELECT id, org_id, memo FROM invoices WHERE member_id = $1', [ada.id])).toEqual(
      invoicesBefore,
    );
  });

  it('refuses, before any write and without creating a key, a create whose scope cannot be known', async () => {
    const keysBefore = await h.db.query<Row>('SELECT key_id FROM hushfield_keys');
    const membersBefore = await h.db.query<Row>('SELECT id FROM members');
    await expect(
      h.prisma.member.create({
        data: { email: 'nobody@nowhere.test', emailIdx: computedBlindIndex, org: { connect: { slug: 'no-such-org' } } },
      }),
    ).rejects.toThrow(InvalidArgumentError);
    const queries = await logged(() =>
      expect(
        h.prisma.member.create({ data: { email: 'nobody@nowhere.test', emailIdx: computedBlindIndex } as never }),
      ).rejects.toMatchObject({
        code: 'HUSHFIELD_INVALID_ARGUMENT',
        message: expect.stringContaining('Member.orgId names the encryption scope'),
      }),
    );
    expect(queries).toEqual([]);
    expect(await h.db.query<Row>('SELECT key_id FROM hushfield_keys')).toHaveLength(keysBefore.length);
    expect(await h.db.query<Row>('SELECT id FROM members')).toHaveLength(membersBefore.length);
  });
});
