/**
 * Issue 12 item 4: an update that reads its row's id and scope first must not seal under the
 * old tenant when another client moves the row between that read and the UPDATE. The UPDATE
 * is narrowed to the scope read; when it then matches nothing the row is read again and the
 * update sent again, a bounded number of times.
 *
 * The move is made deterministic by a query hook on the client hushfield extends: right after
 * the extension's own read of the row, "another client" (raw SQL) moves the row.
 */
import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import { HushfieldError, RowMovedError } from '@hushfield/core';
import { createHarness, type Harness, hushfieldSchema, type SealedClient } from './support';
import { describeOn, testProvider } from '../support/provider';

/** The models whose rows the tests move to another tenant in SQL (see beforeAll). */
const MOVED_IN_SQL = ['User', 'Member'];

describe('fieldEncryption: a row moved to another tenant between the read and the update', () => {
  let h: Harness;
  /** Run once after each of the extension's reads of a user, while set. */
  let afterRead: (() => Promise<void>) | undefined;
  let client: SealedClient;
  /** The arguments of the last `organization.update` the extension sent. */
  let sent: unknown;

  beforeAll(async () => {
    // Rows are moved to another tenant in SQL, standing in for another client's move: unlike the
    // extension's own move, that leaves the values the write under test does not touch sealed
    // under the old tenant's key, which a read refuses (scope-check.test.ts). These models'
    // reads skip that check here; what this suite checks is where the writes seal.
    h = await createHarness({ migratingScopes: MOVED_IN_SQL });
  });
  afterAll(async () => {
    await h.close();
  });

  /** The client each test's own is built on: disconnected after the test (MariaDB has 151 connections). */
  let testBase: { $disconnect(): Promise<void> } | undefined;
  afterEach(async () => {
    await testBase?.$disconnect();
  });

  beforeEach(() => {
    afterRead = undefined;
    sent = undefined;
    // A new client for each test: it has seen no row, so its updates read the row first.
    const { base } = h.fresh();
    testBase = base;
    const hooked = base.$extends({
      query: {
        user: {
          async findUnique({ args, query }) {
            const row = await query(args);
            if (afterRead !== undefined) await afterRead();
            return row;
          },
        },
        // The extension reads a post to find its author before a nested update of the author.
        post: {
          async findUnique({ args, query }) {
            const row = await query(args);
            if (afterRead !== undefined) await afterRead();
            return row;
          },
        },
        member: {
          async findUnique({ args, query }) {
            const row = await query(args);
            if (afterRead !== undefined) await afterRead();
            return row;
          },
        },
        setting: {
          async findUnique({ args, query }) {
            const row = await query(args);
            if (afterRead !== undefined) await afterRead();
            return row;
          },
        },
      },
    });
    const extension = fieldEncryption({
      schema: hushfieldSchema,
      keyring: h.keyring,
      migratingScopes: MOVED_IN_SQL,
      unsafeQueryExtensionsAfter: true,
    });
    // Query extensions run in the order they were added: this one sees what hushfield sends
    // (unsafeQueryExtensionsAfter: it only observes).
    client = hooked.$extends(extension).$extends({
      query: {
        organization: {
          async update({ args, query }) {
            sent = args;
            return query(args);
          },
        },
      },
    }) as unknown as SealedClient;
  });

  const fail = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (e: unknown) => e,
    );

  async function createUser(tenantId: string, email: string): Promise<string> {
    const user = await h.prisma.user.create({ data: { emailIdx: computedBlindIndex, tenantId, name: 'U', email } });
    return user.id;
  }

  const moveTo = (id: string, tenantId: string) =>
    h.db.query('UPDATE users SET "tenantId" = $1 WHERE id = $2', [tenantId, id]);

  /**
   * "Another client's" row of `table`, sealed as it would be, kept aside: deleted now, and put
   * back (raw SQL, as the hook runs inside the extension's own read) by the returned function.
   */
  async function keptAside(table: string, id: string | number): Promise<() => Promise<void>> {
    const [row] = await h.db.query<Record<string, unknown>>(`SELECT * FROM ${table} WHERE id = $1`, [id]);
    await h.db.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
    const columns = Object.keys(row);
    return async () => {
      await h.db.query(
        `INSERT INTO ${table} (${columns.map((column) => `"${column}"`).join(', ')}) ` +
          `VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        columns.map((column) => row[column]),
      );
    };
  }

  /** The scope of the key an envelope (`hfe$1$keyId$...`) names, as the key store records it. */
  async function keyScopeOf(envelope: string): Promise<string> {
    const keys = await h.db.query<{ scope: string }>(
      `SELECT DISTINCT scope FROM hushfield_keys WHERE kind = 'scope' AND key_id = $1`,
      [envelope.split('$')[2]],
    );
    expect(keys).toHaveLength(1);
    return keys[0].scope;
  }

  /** The stored row of `id`: its tenant, its email envelope, and the scope of the key that sealed it. */
  async function stored(id: string): Promise<{ tenantId: string; email: string; keyScope: string }> {
    const [row] = await h.db.query<{ tenantId: string; email: string }>(
      'SELECT "tenantId", email FROM users WHERE id = $1',
      [id],
    );
    return { ...row, keyScope: await keyScopeOf(row.email) };
  }

  it("seals under the new tenant's key when the row moves once", async () => {
    const id = await createUser('race-old', 'before@example.com');
    // Both tenants have keys, as in a real move between existing tenants.
    await createUser('race-new', 'other@example.com');
    afterRead = async () => {
      afterRead = undefined;
      await moveTo(id, 'race-new');
    };
    const updated = await client.user.update({ where: { id }, data: { email: 'after@example.com' } });
    expect(updated).toMatchObject({ id, tenantId: 'race-new', email: 'after@example.com' });
    expect(await stored(id)).toMatchObject({ tenantId: 'race-new', keyScope: 'race-new' });
    for (const reader of [client, h.fresh().prisma]) {
      expect(await reader.user.findUnique({ where: { id } })).toMatchObject({
        tenantId: 'race-new',
        email: 'after@example.com',
      });
    }
    // Shredding the old tenant leaves the moved row readable.
    await h.prisma.$hushfield.crypto.keys.destroyScope('race-old');
    expect(await h.fresh().prisma.user.findUnique({ where: { id } })).toMatchObject({ email: 'after@example.com' });
  });

  it('finds the row by another unique field and re-reads it after the move', async () => {
    const id = await createUser('race-a', 'unique@example.com');
    afterRead = async () => {
      afterRead = undefined;
      await moveTo(id, 'race-b');
    };
    await client.user.update({ where: { emailIdx: 'unique@example.com' }, data: { notes: 'moved notes' } });
    const [row] = await h.db.query<{ notes: string }>('SELECT notes FROM users WHERE id = $1', [id]);
    expect(await keyScopeOf(row.notes)).toBe('race-b');
    expect(await h.fresh().prisma.user.findUnique({ where: { id } })).toMatchObject({
      tenantId: 'race-b',
      notes: 'moved notes',
    });
  });

  it('gives up with RowMovedError when the row moves every time, writing nothing', async () => {
    const id = await createUser('race-x', 'pingpong@example.com');
    await createUser('race-y', 'y@example.com');
    const before = await stored(id);
    let reads = 0;
    afterRead = async () => {
      reads++;
      const [row] = await h.db.query<{ tenantId: string }>('SELECT "tenantId" FROM users WHERE id = $1', [id]);
      await moveTo(id, row.tenantId === 'race-x' ? 'race-y' : 'race-x');
    };
    const error = await fail(client.user.update({ where: { id }, data: { email: 'never@example.com' } }));
    afterRead = undefined;
    expect(error).toBeInstanceOf(RowMovedError);
    expect(error).toBeInstanceOf(HushfieldError);
    expect(error).toMatchObject({ code: 'HUSHFIELD_ROW_MOVED', model: 'User', operation: 'update', attempts: 3 });
    expect((error as Error).message).not.toContain('example.com');
    // Three reads for the update and one after each miss, to tell a moved row from a missing one.
    expect(reads).toBe(6);
    expect((await stored(id)).email).toBe(before.email);
  });

  it('reports a missing row as Prisma does, without retrying', async () => {
    const id = await createUser('race-gone', 'gone@example.com');
    afterRead = async () => {
      afterRead = undefined;
      await h.db.query('DELETE FROM users WHERE id = $1', [id]);
    };
    await expect(client.user.update({ where: { id }, data: { email: 'late@example.com' } })).rejects.toMatchObject({
      code: 'P2025',
    });
  });

  it('does not retry a "not found" that comes from a nested write', async () => {
    const id = await createUser('race-nested', 'nested@example.com');
    let reads = 0;
    afterRead = async () => {
      reads++;
    };
    const error = await fail(
      client.user.update({
        where: { id },
        data: { email: 'nested2@example.com', posts: { update: { where: { id: 2147483000 }, data: { title: 'x' } } } },
      }),
    );
    expect(error).not.toBeInstanceOf(RowMovedError);
    expect(error).toMatchObject({ code: 'P2025' });
    // One read for the update, one to see the row has not moved.
    expect(reads).toBe(2);
    expect(await h.fresh().prisma.user.findUnique({ where: { id } })).toMatchObject({ email: 'nested@example.com' });
  });

  // SQLite has one writer: a transaction that has read cannot write after another connection
  // committed (SQLITE_BUSY), so a row cannot move between the listing and the update there.
  describeOn(['postgresql', 'mysql'], 'one writer, rows cannot move inside the transaction')(
    'updateMany (row by row)',
    () => {
      it("seals a row that moved between its read and its update under the new tenant's key", async () => {
        const id = await createUser('many-old', 'many@example.com');
        await createUser('many-new', 'many-new@example.com');
        // The listing is a findMany: the hook runs after the read of the row itself.
        afterRead = async () => {
          afterRead = undefined;
          await moveTo(id, 'many-new');
        };
        const result = await client.user.updateMany({ where: { id }, data: { email: 'many-after@example.com' } });
        expect(result).toEqual({ count: 1 });
        expect(await stored(id)).toMatchObject({ tenantId: 'many-new', keyScope: 'many-new' });
        expect(await h.fresh().prisma.user.findUnique({ where: { id } })).toMatchObject({
          email: 'many-after@example.com',
        });
      });

      it('skips a row that left the where between the listing and its update', async () => {
        const id = await createUser('many-left', 'left@example.com');
        afterRead = async () => {
          afterRead = undefined;
          await moveTo(id, 'many-elsewhere');
        };
        const where = { tenantId: 'many-left' };
        const data = { email: 'left-after@example.com' };
        // updateManyAndReturn where Prisma has it (not on MySQL).
        if (testProvider() === 'mysql') expect(await client.user.updateMany({ where, data })).toEqual({ count: 0 });
        else expect(await client.user.updateManyAndReturn({ where, data })).toEqual([]);
        expect(await h.fresh().prisma.user.findUnique({ where: { id } })).toMatchObject({ email: 'left@example.com' });
      });

      it('gives up with RowMovedError when the row moves every time, writing nothing', async () => {
        const id = await createUser('many-x', 'many-pingpong@example.com');
        await createUser('many-y', 'many-y@example.com');
        const before = await stored(id);
        afterRead = async () => {
          const [row] = await h.db.query<{ tenantId: string }>('SELECT "tenantId" FROM users WHERE id = $1', [id]);
          await moveTo(id, row.tenantId === 'many-x' ? 'many-y' : 'many-x');
        };
        const error = await fail(client.user.updateMany({ where: { id }, data: { email: 'many-never@example.com' } }));
        afterRead = undefined;
        expect(error).toBeInstanceOf(RowMovedError);
        expect(error).toMatchObject({
          code: 'HUSHFIELD_ROW_MOVED',
          model: 'User',
          operation: 'updateMany',
          attempts: 3,
        });
        expect((error as Error).message).not.toContain('example.com');
        expect((await stored(id)).email).toBe(before.email);
      });
    },
  );

  describe('upsert', () => {
    it("re-seals the updated row under the new tenant's key when it moved before the upsert", async () => {
      const id = await createUser('upsert-old', 'upsert@example.com');
      await createUser('upsert-new', 'upsert-new@example.com');
      afterRead = async () => {
        afterRead = undefined;
        await moveTo(id, 'upsert-new');
      };
      const result = await client.user.upsert({
        where: { id },
        update: { email: 'upsert-after@example.com' },
        create: { emailIdx: computedBlindIndex, tenantId: 'upsert-old', name: 'N', email: 'created@example.com' },
      });
      expect(result).toMatchObject({ id, tenantId: 'upsert-new', email: 'upsert-after@example.com' });
      expect(await stored(id)).toMatchObject({ tenantId: 'upsert-new', keyScope: 'upsert-new' });
      expect(await h.fresh().prisma.user.findUnique({ where: { id } })).toMatchObject({
        email: 'upsert-after@example.com',
      });
      expect(await h.db.query('SELECT id FROM users WHERE "tenantId" LIKE $1', ['upsert-%'])).toHaveLength(2);
    });

    it('returns the created row as created when the row was deleted after the read', async () => {
      const id = await createUser('upsert-del', 'upsert-del@example.com');
      afterRead = async () => {
        afterRead = undefined;
        await h.db.query('DELETE FROM users WHERE id = $1', [id]);
      };
      const result = await client.user.upsert({
        where: { id },
        update: { email: 'upsert-del-after@example.com' },
        create: {
          id,
          emailIdx: computedBlindIndex,
          tenantId: 'upsert-del2',
          name: 'N',
          email: 'upsert-made@example.com',
        },
      });
      expect(result).toMatchObject({ id, tenantId: 'upsert-del2', email: 'upsert-made@example.com' });
      expect(await stored(id)).toMatchObject({ tenantId: 'upsert-del2', keyScope: 'upsert-del2' });
      expect(await h.fresh().prisma.user.findUnique({ where: { id } })).toMatchObject({
        email: 'upsert-made@example.com',
      });
    });
  });
  /**
   * "Another client's" user `id`, sealed as it would be, kept aside now and inserted right
   * after the extension's next read: a read that finds no row, so Prisma then takes the
   * upsert's update branch on it.
   */
  async function insertedAfterRead(id: string): Promise<void> {
    const insert = await keptAside('users', id);
    afterRead = async () => {
      afterRead = undefined;
      await insert();
    };
  }

  // The update branch is sealed for the row the create makes; a row of another tenant (or
  // another id) is sealed again for its own.
  it.each([
    ['that row', 'upsert-race-acme', 'upsert-race-acme'],
    ["that row's tenant, not the create's", 'upsert-race-acme', 'upsert-race-globex'],
  ])('an upsert whose row another client creates after the read seals its update for %s', async (_, made, theirs) => {
    const email = `${theirs}@example.com`;
    await createUser(made, `${made}-for-${theirs}@example.com`);
    const id = await createUser(theirs, email);
    await insertedAfterRead(id);
    const row = await client.user.upsert({
      where: { email },
      create: { emailIdx: computedBlindIndex, tenantId: made, name: 'Upsert', email },
      update: { notes: 'from the upsert' },
    });
    expect(row).toMatchObject({ id, tenantId: theirs, name: 'U', notes: 'from the upsert' });
    // Stored as an envelope, sealed for the row as it is (its tenant, its id): any client reads it.
    const [kept] = await h.db.query<{ notes: string }>('SELECT notes FROM users WHERE id = $1', [id]);
    expect(kept.notes).not.toContain('from the upsert');
    expect(await keyScopeOf(kept.notes)).toBe(theirs);
    const read = await h.fresh().prisma.user.findUniqueOrThrow({ where: { email } });
    expect(read.notes).toBe('from the upsert');
  });

  it("an upsert selecting no encrypted field still seals the racing row's update for that row's tenant", async () => {
    const email = 'upsert-race-select@example.com';
    const id = await createUser('upsert-race-select-theirs', email);
    await insertedAfterRead(id);
    const row = await client.user.upsert({
      where: { email },
      create: { emailIdx: computedBlindIndex, tenantId: 'upsert-race-select-made', name: 'Upsert', email },
      update: { notes: 'from the upsert' },
      select: { id: true, tenantId: true },
    });
    expect(row).toEqual({ id, tenantId: 'upsert-race-select-theirs' });
    const [kept] = await h.db.query<{ notes: string }>('SELECT notes FROM users WHERE id = $1', [id]);
    expect(await keyScopeOf(kept.notes)).toBe('upsert-race-select-theirs');
  });

  it("a racing row that is the create's own (same id, same tenant) is not sealed again and reads back", async () => {
    const email = 'upsert-race-same@example.com';
    const id = await createUser('upsert-race-same', email);
    await insertedAfterRead(id);
    const row = await client.user.upsert({
      where: { id },
      create: { id, emailIdx: computedBlindIndex, tenantId: 'upsert-race-same', name: 'Upsert', email },
      update: { notes: 'from the upsert' },
    });
    expect(row).toMatchObject({ id, tenantId: 'upsert-race-same', notes: 'from the upsert' });
    const read = await h.fresh().prisma.user.findUniqueOrThrow({ where: { id } });
    expect(read.notes).toBe('from the upsert');
  });

  describe('upsert whose result cannot be checked (batch $transaction, fluent API): its where is pinned', () => {
    /** Another client's user, sealed as it would be, kept aside: `insert()` puts it back. */
    async function userKeptAside(tenantId: string, email: string): Promise<{ id: string; insert(): Promise<void> }> {
      const id = await createUser(tenantId, email);
      return { id, insert: await keptAside('users', id) };
    }

    it('batch: a row created after the read found none, under another id, fails as a racing upsert (P2002)', async () => {
      const email = 'batch-race@example.com';
      const other = await userKeptAside('acme', email);
      afterRead = async () => {
        afterRead = undefined;
        await other.insert();
      };
      const error = await fail(
        client.$transaction([
          client.user.upsert({
            where: { emailIdx: email },
            create: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Batch', email },
            update: { notes: 'from the batch upsert' },
          }),
        ]),
      );
      expect(error).toMatchObject({ code: 'P2002' });
      const rows = await h.db.query<{ id: string; notes: string | null }>('SELECT id, notes FROM users WHERE id = $1', [
        other.id,
      ]);
      expect(rows).toEqual([{ id: other.id, notes: null }]);
      expect(await h.fresh().prisma.user.findUniqueOrThrow({ where: { emailIdx: email } })).toMatchObject({
        id: other.id,
        name: 'U',
      });
    });

    it('batch: the row the create names, created after the read, is updated and sealed for its tenant and id', async () => {
      const other = await userKeptAside('acme', 'batch-same@example.com');
      afterRead = async () => {
        afterRead = undefined;
        await other.insert();
      };
      await client.$transaction([
        client.user.upsert({
          where: { id: other.id },
          create: { id: other.id, emailIdx: computedBlindIndex, tenantId: 'acme', name: 'B', email: 'b@example.com' },
          update: { notes: 'batch update' },
        }),
      ]);
      const [row] = await h.db.query<{ notes: string }>('SELECT notes FROM users WHERE id = $1', [other.id]);
      expect(row.notes).not.toContain('batch update');
      expect(await keyScopeOf(row.notes)).toBe('acme');
      expect(await h.fresh().prisma.user.findUnique({ where: { id: other.id } })).toMatchObject({
        email: 'batch-same@example.com',
        notes: 'batch update',
      });
    });

    it('batch: a create then an upsert of the same row updates it, readable afterwards', async () => {
      const id = '3f6c1c52-5d0e-4c51-9a51-8d6f2f0b7a11';
      const [, upserted] = await client.$transaction([
        client.user.create({
          data: { id, emailIdx: computedBlindIndex, tenantId: 'acme', name: 'C', email: 'c1@example.com' },
        }),
        client.user.upsert({
          where: { id },
          create: { id, emailIdx: computedBlindIndex, tenantId: 'acme', name: 'C', email: 'c2@example.com' },
          update: { email: 'c3@example.com' },
        }),
      ]);
      expect(upserted).toMatchObject({ id, email: 'c3@example.com' });
      expect(await h.fresh().prisma.user.findUnique({ where: { id } })).toMatchObject({ email: 'c3@example.com' });
    });

    it('batch: a row moved to another tenant after the read is not given values sealed for the old one', async () => {
      const id = await createUser('batch-old', 'batch-moved@example.com');
      await createUser('batch-new', 'batch-new@example.com');
      afterRead = async () => {
        afterRead = undefined;
        await moveTo(id, 'batch-new');
      };
      const error = await fail(
        client.$transaction([
          client.user.upsert({
            where: { id },
            create: { id, emailIdx: computedBlindIndex, tenantId: 'batch-old', name: 'N', email: 'n@example.com' },
            update: { notes: 'sealed for the old tenant' },
          }),
        ]),
      );
      expect(error).toMatchObject({ code: 'P2002' });
      const [row] = await h.db.query<{ tenantId: string; notes: string | null }>(
        'SELECT "tenantId", notes FROM users WHERE id = $1',
        [id],
      );
      expect(row).toEqual({ tenantId: 'batch-new', notes: null });
    });

    it('fluent: a row created after the read found none, under another id, fails as a racing upsert (P2002)', async () => {
      const email = 'fluent-race@example.com';
      const other = await userKeptAside('acme', email);
      afterRead = async () => {
        afterRead = undefined;
        await other.insert();
      };
      const error = await fail(
        client.user
          .upsert({
            where: { emailIdx: email },
            create: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Fluent', email },
            update: { notes: 'from the fluent upsert' },
          })
          .posts(),
      );
      expect(error).toMatchObject({ code: 'P2002' });
      const [row] = await h.db.query<{ notes: string | null }>('SELECT notes FROM users WHERE id = $1', [other.id]);
      expect(row.notes).toBeNull();
    });
  });

  describe('upsert of a model without a single id field (Setting: organization and name)', () => {
    /** An organization, and its setting `name` inserted by "another client" (no value) when `afterRead` runs. */
    async function settingAppearing(slug: string, name: string): Promise<string> {
      const orgId = (await h.prisma.organization.create({ data: { slug } })).id;
      afterRead = async () => {
        afterRead = undefined;
        await h.db.query('INSERT INTO settings (org_id, name) VALUES ($1, $2)', [orgId, name]);
      };
      return orgId;
    }

    /** The stored value of a setting, checked sealed under its organization's key, and as a new client reads it. */
    async function settingValue(orgId: string, name: string): Promise<string | null | undefined> {
      const [row] = await h.db.query<{ value: string }>('SELECT value FROM settings WHERE org_id = $1 AND name = $2', [
        orgId,
        name,
      ]);
      expect(await keyScopeOf(row.value)).toBe(orgId);
      return (await h.fresh().prisma.setting.findUnique({ where: { orgId_name: { orgId, name } } }))?.value;
    }

    it.each([
      ['alone', false],
      ['in a batch $transaction', true],
    ])('%s: a row created after the read found none is updated, sealed for its organization', async (_, batch) => {
      const orgId = await settingAppearing(`setting-race-${String(batch)}`, 'theme');
      const upsert = client.setting.upsert({
        where: { orgId_name: { orgId, name: 'theme' } },
        create: { orgId, name: 'theme', value: 'created' },
        update: { value: 'updated' },
      });
      await (batch ? client.$transaction([upsert]) : upsert);
      expect(await settingValue(orgId, 'theme')).toBe('updated');
    });

    it('update: a row created after the read found none is read again and updated, sealed for its organization', async () => {
      const orgId = await settingAppearing('setting-update-race', 'tz');
      await client.setting.update({ where: { orgId_name: { orgId, name: 'tz' } }, data: { value: 'UTC' } });
      expect(await settingValue(orgId, 'tz')).toBe('UTC');
    });

    it("update of a setting that does not exist: Prisma's not found (P2025), nothing written", async () => {
      const orgId = (await h.prisma.organization.create({ data: { slug: 'setting-missing' } })).id;
      const where = { orgId_name: { orgId, name: 'none' } };
      expect(await fail(client.setting.update({ where, data: { value: 'x' } }))).toMatchObject({ code: 'P2025' });
      expect(await h.db.query('SELECT name FROM settings WHERE org_id = $1', [orgId])).toEqual([]);
    });

    it('batch: an update of the setting an earlier write of the batch creates fails (P2025), nothing written', async () => {
      const orgId = (await h.prisma.organization.create({ data: { slug: 'setting-batch-update' } })).id;
      const where = { orgId_name: { orgId, name: 'n' } };
      const error = await fail(
        client.$transaction([
          client.setting.create({ data: { orgId, name: 'n', value: 'a' } }),
          client.setting.update({ where, data: { value: 'b' } }),
        ]),
      );
      expect(error).toMatchObject({ code: 'P2025' });
      expect(await h.db.query('SELECT name FROM settings WHERE org_id = $1', [orgId])).toEqual([]);
    });

    it('batch: an organization created first, then its setting upserted with the scope from a connect', async () => {
      const orgId = '0b6f2d0e-8a4b-4c7e-9b1a-5d2e3f4a5b6c';
      const slug = 'setting-batch-org';
      await client.$transaction([
        client.organization.create({ data: { id: orgId, slug } }),
        client.setting.upsert({
          where: { orgId_name: { orgId, name: 'locale' } },
          create: { name: 'locale', org: { connect: { slug } } },
          update: { value: 'never' },
        }),
      ]);
      await client.$transaction([
        client.setting.upsert({
          where: { orgId_name: { orgId, name: 'locale' } },
          create: { name: 'locale', org: { connect: { slug } } },
          update: { value: 'fr' },
        }),
      ]);
      expect(await settingValue(orgId, 'locale')).toBe('fr');
    });
  });

  it('batch: a create, then an upsert of that row whose update writes the same tenant, updates it', async () => {
    const id = '6a0f7c3e-2b1d-4e5f-8a9b-0c1d2e3f4a5b';
    const create = { id, emailIdx: computedBlindIndex, tenantId: 'acme', name: 'S', email: 's1@example.com' };
    const [, upserted] = await client.$transaction([
      client.user.create({ data: create }),
      client.user.upsert({
        where: { id },
        create: { ...create, email: 's2@example.com' },
        update: { tenantId: 'acme', email: 's3@example.com' },
      }),
    ]);
    expect(upserted).toMatchObject({ id, tenantId: 'acme', email: 's3@example.com' });
    expect(await h.fresh().prisma.user.findUnique({ where: { id } })).toMatchObject({ email: 's3@example.com' });
  });

  describe('nested update of a row read first (through its parent, or by its where)', () => {
    async function createPost(tenantId: string, email: string): Promise<{ postId: number; authorId: string }> {
      const authorId = await createUser(tenantId, email);
      const post = await h.prisma.post.create({ data: { title: 'T', body: 'B', authorId } });
      return { postId: post.id, authorId };
    }

    /**
     * "Another client's" member, sealed as it would be and kept aside: the returned function
     * inserts it (raw SQL, as the hook runs inside the extension's own read).
     */
    async function memberKeptAside(data: { id?: string; orgId: string; email: string }): Promise<() => Promise<void>> {
      const { id } = await h.prisma.member.create({ data: { ...data, emailIdx: computedBlindIndex } });
      return keptAside('members', id);
    }

    it.each([
      ['the data itself', 1, (notes: string) => ({ notes })],
      ['{ where, data }', 2, (notes: string) => ({ where: { name: 'U' }, data: { notes } })],
    ])(
      "to-one update given as %s: seals under the new tenant's key when the row moves after the read",
      async (_form, n, update) => {
        const { postId, authorId } = await createPost('nested-old', `${n}-nested@example.com`);
        await createUser('nested-new', `${n}-nested-new@example.com`);
        afterRead = async () => {
          afterRead = undefined;
          await moveTo(authorId, 'nested-new');
        };
        const updated = await client.post.update({
          where: { id: postId },
          data: { author: { update: update('nested after') } },
          include: { author: true },
        });
        expect(updated.author).toMatchObject({ id: authorId, tenantId: 'nested-new', notes: 'nested after' });
        const [row] = await h.db.query<{ notes: string }>('SELECT notes FROM users WHERE id = $1', [authorId]);
        expect(row.notes).not.toContain('nested after');
        expect(await keyScopeOf(row.notes)).toBe('nested-new');
        expect(await h.fresh().prisma.user.findUnique({ where: { id: authorId } })).toMatchObject({
          notes: 'nested after',
        });
      },
    );

    it('gives up with RowMovedError naming the nested model when the row moves every time, writing nothing', async () => {
      const { postId, authorId } = await createPost('nested-x', 'nested-pingpong@example.com');
      await createUser('nested-y', 'nested-y@example.com');
      const before = await stored(authorId);
      afterRead = async () => {
        const [row] = await h.db.query<{ tenantId: string }>('SELECT "tenantId" FROM users WHERE id = $1', [authorId]);
        await moveTo(authorId, row.tenantId === 'nested-x' ? 'nested-y' : 'nested-x');
      };
      const error = await fail(
        client.post.update({
          where: { id: postId },
          data: { title: 'never', author: { update: { notes: 'never written' } } },
        }),
      );
      afterRead = undefined;
      expect(error).toBeInstanceOf(RowMovedError);
      expect(error).toMatchObject({ code: 'HUSHFIELD_ROW_MOVED', model: 'User', operation: 'update', attempts: 3 });
      expect((error as Error).message).not.toContain('never written');
      expect((await stored(authorId)).email).toBe(before.email);
      const [post] = await h.db.query<{ title: string }>('SELECT title FROM posts WHERE id = $1', [postId]);
      expect(post.title).toBe('T');
    });

    it('reports a row deleted after the read as Prisma does, without retrying', async () => {
      const { postId, authorId } = await createPost('nested-gone', 'nested-gone@example.com');
      let reads = 0;
      afterRead = async () => {
        if (reads++ === 0) await h.db.query('DELETE FROM posts WHERE id = $1', [postId]);
      };
      const error = await fail(
        client.post.update({ where: { id: postId }, data: { author: { update: { notes: 'late' } } } }),
      );
      afterRead = undefined;
      expect(error).not.toBeInstanceOf(RowMovedError);
      expect(error).toMatchObject({ code: 'P2025' });
      expect(reads).toBe(2); // the read through the post, then the author's, to see it has not moved
      expect((await stored(authorId)).tenantId).toBe('nested-gone');
    });

    it("to-many update: narrowed to the row's organization and id as read", async () => {
      const org = await h.prisma.organization.create({
        data: { slug: 'nested-many', members: { create: { email: 'm@nested.test', emailIdx: computedBlindIndex } } },
        include: { members: true },
      });
      const memberId = org.members[0].id;
      const updated = await client.organization.update({
        where: { id: org.id },
        data: { members: { update: { where: { id: memberId }, data: { email: 'm2@nested.test' } } } },
        include: { members: true },
      });
      expect(updated.members[0]).toMatchObject({ id: memberId, email: 'm2@nested.test' });
      const nested = (sent as { data: { members: { update: { where: Record<string, unknown> } } } }).data.members.update
        .where;
      expect(nested).toMatchObject({ id: memberId, AND: [{ id: memberId, orgId: org.id }] });
    });

    // Moving a member takes it out of its organization's relation too, so Prisma finds nothing
    // with or without the guard: this checks that the write read again then reports that.
    it('to-many update of a row moved to another organization after the read: not found, nothing written', async () => {
      const org = await h.prisma.organization.create({
        data: { slug: 'nested-from', members: { create: { email: 'mv@nested.test', emailIdx: computedBlindIndex } } },
        include: { members: true },
      });
      const other = await h.prisma.organization.create({ data: { slug: 'nested-to', legalName: 'To' } });
      const memberId = org.members[0].id;
      const [before] = await h.db.query<{ email: string }>('SELECT email FROM members WHERE id = $1', [memberId]);
      afterRead = async () => {
        afterRead = undefined;
        await h.db.query('UPDATE members SET org_id = $1 WHERE id = $2', [other.id, memberId]);
      };
      const error = await fail(
        client.organization.update({
          where: { id: org.id },
          data: { members: { update: { where: { id: memberId }, data: { email: 'mv2@nested.test' } } } },
        }),
      );
      expect(error).toMatchObject({ code: 'P2025' });
      const [after] = await h.db.query<{ email: string; org_id: string }>(
        'SELECT email, org_id FROM members WHERE id = $1',
        [memberId],
      );
      expect(after).toEqual({ email: before.email, org_id: other.id });
    });

    it("a create under an updated row is sealed for the row's scope as written, when it moved after the read", async () => {
      const org = await h.prisma.organization.create({
        data: { slug: 'pin-from', members: { create: { email: 'pin@nested.test', emailIdx: computedBlindIndex } } },
        include: { members: true },
      });
      const other = await h.prisma.organization.create({ data: { slug: 'pin-to', legalName: 'Pin To' } });
      const memberId = org.members[0].id;
      afterRead = async () => {
        afterRead = undefined;
        await h.db.query('UPDATE members SET org_id = $1 WHERE id = $2', [other.id, memberId]);
      };
      // The invoice takes its organization from the member, read before the update is sent.
      await client.member.update({ where: { id: memberId }, data: { invoices: { create: { memo: 'pinned memo' } } } });
      const [invoice] = await h.db.query<{ id: string; org_id: string; memo: string }>(
        'SELECT id, org_id, memo FROM invoices WHERE member_id = $1',
        [memberId],
      );
      expect(invoice.org_id).toBe(other.id);
      expect(invoice.memo).not.toContain('pinned memo');
      expect(await keyScopeOf(invoice.memo)).toBe(other.id);
      expect(await h.fresh().prisma.invoice.findUnique({ where: { id: invoice.id } })).toMatchObject({
        memo: 'pinned memo',
      });
    });

    it('to-many update of a row another client creates after the read found none: sealed for it on a second send', async () => {
      const orgId = (await h.prisma.organization.create({ data: { slug: 'nested-appears' } })).id;
      const id = 'cnestedappears00000000000id';
      const insert = await memberKeptAside({ id, orgId, email: 'appears@member.test' });
      afterRead = async () => {
        afterRead = undefined;
        await insert();
      };
      await client.organization.update({
        where: { id: orgId },
        data: { members: { update: { where: { id }, data: { email: 'appeared@member.test' } } } },
      });
      const [row] = await h.db.query<{ email: string }>('SELECT email FROM members WHERE id = $1', [id]);
      expect(await keyScopeOf(row.email)).toBe(orgId);
      expect(await h.fresh().prisma.member.findUnique({ where: { id } })).toMatchObject({
        email: 'appeared@member.test',
      });
    });

    // Not on MySQL/MariaDB: under REPEATABLE READ the transaction's reads (the guard's among
    // them) see its snapshot, taken before the move (README, interactive transactions).
    describeOn(['postgresql'], 'the guard is read in the snapshot of the transaction on MySQL; one writer on SQLite')(
      'in an interactive transaction',
      () => {
        it('is not sent again (its other nested parts may have run): RowMovedError, the transaction rolls back', async () => {
          const { postId, authorId } = await createPost('itx-old', 'itx-nested@example.com');
          await createUser('itx-new', 'itx-new@example.com');
          const before = await stored(authorId);
          afterRead = async () => {
            afterRead = undefined;
            await moveTo(authorId, 'itx-new');
          };
          let sends = 0;
          const error = await fail(
            client.$transaction(async (tx) => {
              sends++;
              return tx.post.update({
                where: { id: postId },
                data: { title: 'itx title', author: { update: { notes: 'itx notes' } } },
              });
            }),
          );
          expect(error).toBeInstanceOf(RowMovedError);
          expect(error).toMatchObject({ model: 'User', operation: 'update', attempts: 1 });
          expect(sends).toBe(1);
          const [post] = await h.db.query<{ title: string }>('SELECT title FROM posts WHERE id = $1', [postId]);
          expect(post.title).toBe('T');
          expect((await stored(authorId)).email).toBe(before.email);
        });
      },
    );

    describe('nested upsert whose row another client creates after the read found none', () => {
      async function orgWithNoMember(slug: string): Promise<string> {
        return (await h.prisma.organization.create({ data: { slug } })).id;
      }

      it('fails as a racing upsert does in Prisma (P2002), leaving the other row as written', async () => {
        const orgId = await orgWithNoMember('upsert-race-org');
        const email = 'upsert-race@member.test';
        const insert = await memberKeptAside({ orgId, email });
        afterRead = async () => {
          afterRead = undefined;
          await insert();
        };
        const error = await fail(
          client.organization.update({
            where: { id: orgId },
            data: {
              members: {
                upsert: {
                  where: { emailIdx: email },
                  create: { email, emailIdx: computedBlindIndex },
                  update: { email: 'UPSERT-RACE@member.test' },
                },
              },
            },
          }),
        );
        expect(error).toMatchObject({ code: 'P2002' });
        const members = await h.fresh().prisma.member.findMany({ where: { orgId } });
        expect(members.map((m) => m.email)).toEqual([email]);
      });

      it('updates the row the create names (its id in the where), sealed for its organization and id', async () => {
        const orgId = await orgWithNoMember('upsert-race-id');
        const id = 'cupsertrace0000000000000id';
        const insert = await memberKeptAside({ id, orgId, email: 'first@member.test' });
        afterRead = async () => {
          afterRead = undefined;
          await insert();
        };
        await client.organization.update({
          where: { id: orgId },
          data: {
            members: {
              upsert: {
                where: { id },
                create: { id, email: 'created@member.test', emailIdx: computedBlindIndex },
                update: { email: 'updated@member.test' },
              },
            },
          },
        });
        const [row] = await h.db.query<{ email: string; org_id: string }>(
          'SELECT email, org_id FROM members WHERE id = $1',
          [id],
        );
        expect(row.org_id).toBe(orgId);
        expect(row.email).not.toContain('updated@');
        expect(await keyScopeOf(row.email)).toBe(orgId);
        expect(await h.fresh().prisma.member.findUnique({ where: { id } })).toMatchObject({
          email: 'updated@member.test',
        });
      });

      it('updates the row its where names by id when the model is bound but unscoped (no read, nothing pinned)', async () => {
        const id = await createUser('acct-upsert', 'acct-upsert@example.com');
        const account = await h.prisma.account.create({
          data: { provider: 'gh', externalId: 'ext-1', externalIdIdx: computedBlindIndex, userId: id },
        });
        const updated = await client.user.update({
          where: { id },
          data: {
            accounts: {
              upsert: {
                where: { id: account.id },
                create: { provider: 'gh', externalId: 'ext-new', externalIdIdx: computedBlindIndex },
                update: { externalId: 'ext-updated' },
              },
            },
          },
          include: { accounts: true },
        });
        expect(updated.accounts).toEqual([expect.objectContaining({ id: account.id, externalId: 'ext-updated' })]);
      });

      it('creates the row when none appears, as before', async () => {
        const orgId = await orgWithNoMember('upsert-norace');
        const updated = await client.organization.update({
          where: { id: orgId },
          data: {
            members: {
              upsert: {
                where: { emailIdx: 'norace@member.test' },
                create: { email: 'norace@member.test', emailIdx: computedBlindIndex },
                update: { email: 'never@member.test' },
              },
            },
          },
          include: { members: true },
        });
        expect(updated.members.map((m) => m.email)).toEqual(['norace@member.test']);
      });
    });
  });
});
