/**
 * An update is narrowed to the id and scope its values are sealed for. The extension sets them
 * beside the where's own keys when it can (plain values the where does not give otherwise),
 * as plain Prisma's `{ id, tenantId }`, which costs Prisma less than an `AND` conjunct
 * (bench/where-shape.ts); otherwise, and for filter objects, it adds an `AND` conjunct. Both
 * must match exactly the rows the conjunct would: these tests check what is sent and that the
 * update lands, or fails as Prisma does, on every provider.
 */
import { fieldEncryption } from '@hushfield/prisma';
import { createHarness, type Harness, hushfieldSchema, isEnvelope, rejection, type SealedClient } from './support';

describe('fieldEncryption: the where an update is narrowed to', () => {
  let h: Harness;
  let client: SealedClient;
  /** The where of each `user.update` the extension sent, in order. */
  let sent: unknown[];
  let testBase: { $disconnect(): Promise<void> } | undefined;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  beforeEach(() => {
    sent = [];
    // A new client for each test: it has seen no row until the test writes or reads one.
    const { base } = h.fresh();
    testBase = base;
    // Query extensions run in the order they were added: this one sees what hushfield sends
    // (unsafeQueryExtensionsAfter: it only observes).
    client = base
      .$extends(fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring, unsafeQueryExtensionsAfter: true }))
      .$extends({
        query: {
          user: {
            update({ args, query }) {
              sent.push(args.where);
              return query(args);
            },
          },
        },
      }) as unknown as SealedClient;
  });
  afterEach(async () => {
    await testBase?.$disconnect();
  });

  /** A user created through another client, so this test's client has not seen it. */
  async function unseenUser(tag: string) {
    return h.prisma.user.create({
      data: { tenantId: 'acme', name: tag, email: `${tag}@narrow.test`, ssn: '000-00-0000', notes: 'first' },
    });
  }

  /** The notes as a client with cold caches reads them, after checking the database holds an envelope. */
  async function storedNotes(id: string): Promise<unknown> {
    const [raw] = await h.db.query<{ notes: unknown }>('SELECT "notes" FROM "users" WHERE "id" = $1', [id]);
    expect(isEnvelope(raw.notes)).toBe(true);
    const notes = (await h.fresh().prisma.user.findUniqueOrThrow({ where: { id } })).notes;
    expect(String(raw.notes)).not.toContain(String(notes));
    return notes;
  }

  it('a row this client has seen: its scope beside the id, no AND', async () => {
    const user = await client.user.create({
      data: { tenantId: 'acme', name: 'Seen', email: 'seen@narrow.test', ssn: '000-00-0001', notes: 'first' },
    });
    const updated = await client.user.update({ where: { id: user.id }, data: { notes: 'second' } });
    expect(updated).toMatchObject({ id: user.id, email: 'seen@narrow.test', notes: 'second' });
    expect(sent).toEqual([{ id: user.id, tenantId: 'acme' }]);
    expect(await storedNotes(user.id)).toBe('second');
  });

  it('a row read first, by its id: the id and scope read beside the where, no AND', async () => {
    const user = await unseenUser('by-id');
    await client.user.update({ where: { id: user.id }, data: { notes: 'second' } });
    expect(sent).toEqual([{ id: user.id, tenantId: 'acme' }]);
    expect(await storedNotes(user.id)).toBe('second');
  });

  it('a row read first, by another unique field: its blind index, the id and the scope side by side', async () => {
    const user = await unseenUser('by-email');
    const updated = await client.user.update({ where: { email: 'by-email@narrow.test' }, data: { notes: 'second' } });
    expect(updated).toMatchObject({ id: user.id, notes: 'second' });
    expect(sent).toHaveLength(1);
    expect(Object.keys(sent[0] as object).sort()).toEqual(['emailIdx', 'id', 'tenantId']);
    expect(sent[0]).toMatchObject({ id: user.id, tenantId: 'acme' });
    expect(await storedNotes(user.id)).toBe('second');
  });

  it("a missing row: the guard that matches nothing is an AND conjunct, and Prisma's not found comes back", async () => {
    const error = await rejection(
      client.user.update({ where: { email: 'nobody@narrow.test' }, data: { notes: 'never' } }),
    );
    // Not a validation error: a filter object beside a unique field is not a unique input.
    expect(error).toMatchObject({ code: 'P2025' });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ AND: [expect.any(Object)] });
  });

  it('a where filtering the scope itself keeps its filter, and the scope read goes into an AND', async () => {
    const user = await unseenUser('scope-filter');
    await client.user.update({
      where: { id: user.id, tenantId: { in: ['acme', 'beta'] } },
      data: { notes: 'second' },
    });
    expect(sent).toEqual([
      { id: user.id, tenantId: { in: ['acme', 'beta'] }, AND: [{ id: user.id, tenantId: 'acme' }] },
    ]);
    expect(await storedNotes(user.id)).toBe('second');
  });

  it('a where naming another scope finds no row to update (P2025), and nothing is written', async () => {
    const user = await unseenUser('other-scope');
    const error = await rejection(
      client.user.update({ where: { id: user.id, tenantId: 'beta' }, data: { notes: 'never' } }),
    );
    expect(error).toMatchObject({ code: 'P2025' });
    expect(await storedNotes(user.id)).toBe('first');
  });
});
