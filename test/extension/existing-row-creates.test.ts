/**
 * A create that stands in for a row already there: an upsert's, whose where found the row to
 * update, and a connectOrCreate's, whose where names the row to link. Prisma validates that
 * create, so it is sent sealed, although it runs only if the row is gone when the write runs.
 * A `scope: id` model's create that leaves the id to the default is given the row's id: sealed
 * for a freshly generated id, it made a scope key for an id no row will ever have, on every
 * call (an "ensure" upsert), and a connectOrCreate whose create writes an encrypted value was
 * refused outright, its create's generated id differing from the id its where found.
 *
 * Races are made deterministic by a query hook on the client hushfield extends: right after
 * the extension's own read of the organization, "another client" (SQL) changes it.
 */
import { randomUUID } from 'node:crypto';
import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import { createHarness, type Harness, hushfieldSchema, rejection, type SealedClient } from './support';

describe('fieldEncryption: a create standing in for an existing row takes its scope (scope: id)', () => {
  let h: Harness;
  let client: SealedClient;
  /** Run once after the extension's next read of an organization, while set. */
  let afterRead: (() => Promise<void>) | undefined;
  let testBase: { $disconnect(): Promise<void> } | undefined;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  beforeEach(() => {
    afterRead = undefined;
    const { base } = h.fresh();
    testBase = base;
    const hooked = base.$extends({
      query: {
        organization: {
          async findUnique({ args, query }) {
            const row = await query(args);
            const then = afterRead;
            afterRead = undefined;
            if (then !== undefined) await then();
            return row;
          },
        },
      },
    });
    client = hooked.$extends(
      fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring }),
    ) as unknown as SealedClient;
  });
  afterEach(async () => {
    await testBase?.$disconnect();
  });

  /** The scopes the key store holds a scope key for. */
  async function scopeKeys(): Promise<string[]> {
    const rows = await h.db.query<{ scope: string }>(
      "SELECT DISTINCT scope FROM hushfield_keys WHERE kind = 'scope' ORDER BY scope",
    );
    return rows.map((row) => row.scope);
  }

  /** The scope of the key that sealed `envelope` (its key id is the third `$` part). */
  async function keyScopeOf(envelope: string): Promise<string> {
    const keys = await h.db.query<{ scope: string }>(
      "SELECT DISTINCT scope FROM hushfield_keys WHERE kind = 'scope' AND key_id = $1",
      [envelope.split('$')[2]],
    );
    expect(keys).toHaveLength(1);
    return keys[0].scope;
  }

  /** The stored organizations of `slug`: id and the legal name's envelope. */
  function storedOrgs(slug: string): Promise<{ id: string; legal_name: string }[]> {
    return h.db.query('SELECT id, legal_name FROM organizations WHERE slug = $1', [slug]);
  }

  /** An "ensure" upsert: the organization of `slug`, created with a legal name if missing. */
  const ensure = (slug: string, update: { legalName?: string } = {}) => ({
    where: { slug },
    create: { slug, legalName: `${slug} Ltd` },
    update,
  });

  it('an ensure upsert of an existing organization makes no scope key, however often it runs', async () => {
    const org = await client.organization.create({ data: { slug: 'ensure-top', legalName: 'Ensure Top' } });
    const before = await scopeKeys();
    expect(before).toContain(org.id);
    for (let i = 0; i < 3; i++) {
      expect(await client.organization.upsert(ensure('ensure-top'))).toMatchObject({
        id: org.id,
        legalName: 'Ensure Top',
      });
    }
    // An update that writes a value reads the row for its scope: the create takes the id read.
    const renamed = await client.organization.upsert(ensure('ensure-top', { legalName: 'Ensure Top SA' }));
    expect(renamed).toMatchObject({ id: org.id, legalName: 'Ensure Top SA' });
    // In an interactive transaction, with no key prepared: a single-connection driver (SQLite)
    // cannot make a key there, and the organization's key is already there.
    const inTransaction = await client.$transaction((tx) => tx.organization.upsert(ensure('ensure-top')));
    expect(inTransaction).toMatchObject({ id: org.id, legalName: 'Ensure Top SA' });
    expect(await scopeKeys()).toEqual(before);
    expect(await storedOrgs('ensure-top')).toHaveLength(1);
  });

  it("an upsert's create with a nested create under the organization makes no key either", async () => {
    const org = await client.organization.create({ data: { slug: 'ensure-nested', legalName: 'Nested' } });
    const before = await scopeKeys();
    const upsert = {
      where: { slug: 'ensure-nested' },
      create: {
        slug: 'ensure-nested',
        members: { create: { email: 'nested@ensure.test', emailIdx: computedBlindIndex } },
      },
      update: {},
    };
    expect(await client.organization.upsert(upsert)).toMatchObject({ id: org.id });
    expect(await client.organization.upsert(upsert)).toMatchObject({ id: org.id });
    expect(await scopeKeys()).toEqual(before);
    expect(await h.db.query('SELECT id FROM members WHERE org_id = $1', [org.id])).toHaveLength(0);
  });

  it('an upsert whose organization is missing creates it under a fresh id, with a key of its own', async () => {
    const before = new Set(await scopeKeys());
    const created = await client.organization.upsert(ensure('ensure-new'));
    expect(created).toMatchObject({ slug: 'ensure-new', legalName: 'ensure-new Ltd' });
    expect((await scopeKeys()).filter((scope) => !before.has(scope))).toEqual([created.id]);
    const [stored] = await storedOrgs('ensure-new');
    expect(await keyScopeOf(stored.legal_name)).toBe(created.id);
  });

  it('the organization deleted after the read: the create makes it again under the same id and key', async () => {
    const org = await client.organization.create({ data: { slug: 'ensure-deleted', legalName: 'Deleted' } });
    const before = await scopeKeys();
    afterRead = async () => {
      await h.db.query('DELETE FROM organizations WHERE id = $1', [org.id]);
    };
    const made = await client.organization.upsert(ensure('ensure-deleted'));
    expect(made).toMatchObject({ id: org.id, legalName: 'ensure-deleted Ltd' });
    // Sealed for the row as it is: any client reads it.
    const [stored] = await storedOrgs('ensure-deleted');
    expect(stored.id).toBe(org.id);
    expect(await keyScopeOf(stored.legal_name)).toBe(org.id);
    expect(await h.fresh().prisma.organization.findUniqueOrThrow({ where: { id: org.id } })).toMatchObject({
      legalName: 'ensure-deleted Ltd',
    });
    expect(await scopeKeys()).toEqual(before);
  });

  it('the organization renamed after the read: the create fails on its id (P2002), as a racing upsert does', async () => {
    const org = await client.organization.create({ data: { slug: 'ensure-renamed', legalName: 'Renamed' } });
    const before = await scopeKeys();
    afterRead = async () => {
      await h.db.query('UPDATE organizations SET slug = $1 WHERE id = $2', ['ensure-renamed-2', org.id]);
    };
    const error = await rejection(client.organization.upsert(ensure('ensure-renamed')));
    expect(error).toMatchObject({ code: 'P2002' });
    // Nothing written, no key made; sent again (as Prisma advises for racing upserts), it creates.
    expect(await storedOrgs('ensure-renamed')).toHaveLength(0);
    expect(await scopeKeys()).toEqual(before);
    const again = await client.organization.upsert(ensure('ensure-renamed'));
    expect(again.id).not.toBe(org.id);
    expect(await scopeKeys()).toContain(again.id);
  });

  it('an organization whose scope was shredded, its row kept: an ensure upsert still answers, its create under a fresh id', async () => {
    const org = await client.organization.create({ data: { slug: 'ensure-shredded', legalName: 'Shredded' } });
    await h.prisma.$hushfield.crypto.keys.destroyScope(org.id);
    // A client that has not cached the organization's key (this one's cache would still seal for it).
    const cold = h.fresh().prisma;
    // The create cannot be sealed for the shredded scope; it runs only if the row is gone, so
    // it is sealed for a fresh id instead, as before it stood in for the row.
    const kept = await cold.organization.upsert({ ...ensure('ensure-shredded'), select: { id: true, slug: true } });
    expect(kept).toEqual({ id: org.id, slug: 'ensure-shredded' });
    expect(await storedOrgs('ensure-shredded')).toHaveLength(1);
    // A nested create under it too.
    const nested = await h.fresh().prisma.organization.upsert({
      where: { slug: 'ensure-shredded' },
      create: {
        slug: 'ensure-shredded',
        members: { create: { email: 'x@shredded.test', emailIdx: computedBlindIndex } },
      },
      update: {},
      select: { id: true },
    });
    expect(nested).toEqual({ id: org.id });
  });

  it('in a batch, read before an earlier write deletes the row, the create takes a fresh id', async () => {
    const org = await client.organization.create({ data: { slug: 'ensure-batch', legalName: 'Batch' } });
    const [, made] = await client.$transaction([
      client.organization.delete({ where: { slug: 'ensure-batch' } }),
      client.organization.upsert(ensure('ensure-batch')),
    ]);
    expect(made).toMatchObject({ slug: 'ensure-batch', legalName: 'ensure-batch Ltd' });
    expect(made.id).not.toBe(org.id);
    const [stored] = await storedOrgs('ensure-batch');
    expect(await keyScopeOf(stored.legal_name)).toBe(made.id);
  });

  it('connectOrCreate links the existing organization, whose create writes a value, with no key made', async () => {
    const org = await client.organization.create({ data: { slug: 'link-existing', legalName: 'Link' } });
    const before = await scopeKeys();
    const link = (email: string) =>
      client.member.create({
        data: {
          email,
          emailIdx: computedBlindIndex,
          org: {
            connectOrCreate: { where: { slug: 'link-existing' }, create: { slug: 'link-existing', legalName: 'L' } },
          },
        },
      });
    // Refused before: the create's generated id differed from the id the where found.
    expect(await link('first@link.test')).toMatchObject({ orgId: org.id, email: 'first@link.test' });
    expect(await link('second@link.test')).toMatchObject({ orgId: org.id, email: 'second@link.test' });
    expect(await scopeKeys()).toEqual(before);
    const members = await h.db.query<{ email: string }>('SELECT email FROM members WHERE org_id = $1', [org.id]);
    expect(members).toHaveLength(2);
    for (const member of members) expect(await keyScopeOf(member.email)).toBe(org.id);
    expect(await storedOrgs('link-existing')).toEqual([expect.objectContaining({ id: org.id })]);
  });

  it("connectOrCreate whose where gives the id makes its organization with that id, as the where's value", async () => {
    const id = randomUUID();
    const member = await client.member.create({
      data: {
        email: 'given@link.test',
        emailIdx: computedBlindIndex,
        org: { connectOrCreate: { where: { id }, create: { slug: 'link-given', legalName: 'Given' } } },
      },
    });
    expect(member.orgId).toBe(id);
    const [stored] = await storedOrgs('link-given');
    expect(stored.id).toBe(id);
    expect(await keyScopeOf(stored.legal_name)).toBe(id);
  });

  it('connectOrCreate of a missing organization creates it, then links it', async () => {
    const before = new Set(await scopeKeys());
    const link = (email: string) =>
      client.member.create({
        data: {
          email,
          emailIdx: computedBlindIndex,
          org: { connectOrCreate: { where: { slug: 'link-new' }, create: { slug: 'link-new', legalName: 'New' } } },
        },
        include: { org: true },
      });
    const first = await link('first@link-new.test');
    expect(first.org).toMatchObject({ slug: 'link-new', legalName: 'New' });
    expect((await scopeKeys()).filter((scope) => !before.has(scope))).toEqual([first.orgId]);
    const second = await link('second@link-new.test');
    expect(second.orgId).toBe(first.orgId);
    expect((await scopeKeys()).filter((scope) => !before.has(scope))).toEqual([first.orgId]);
    const [stored] = await storedOrgs('link-new');
    expect(await keyScopeOf(stored.legal_name)).toBe(first.orgId);
  });
});
