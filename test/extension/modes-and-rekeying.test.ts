import { encryptString, generateKey } from '@47ng/cloak';
import { DecryptionError, UnsupportedQueryError } from '@hushfield/core';
import { computedBlindIndex, type HushfieldSchema } from '@hushfield/prisma';
import {
  createHarness,
  expectNoPlaintextInLog,
  hushfieldSchema,
  type Harness,
  isEnvelope,
  wrappedDek,
} from './support';

type Row = Record<string, string | number | null>;

/** The test schema with Customer's fields switched to `readonly` (the way out of encryption). */
function readonlySchema(): HushfieldSchema {
  const customer = hushfieldSchema.models.Customer;
  const encrypted = Object.fromEntries(
    Object.entries(customer.encrypted).map(([k, v]) => [k, { ...v, mode: 'readonly' as const }]),
  );
  return {
    ...hushfieldSchema,
    models: { ...hushfieldSchema.models, Customer: { ...customer, encrypted } },
  } as HushfieldSchema;
}

describe('fieldEncryption: modes, row binding and scope moves', () => {
  let h: Harness;
  const raw = async (table: string, id: string | number) =>
    (await h.db.query<Row>(`SELECT * FROM ${table} WHERE id = $1`, [id]))[0];

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('migrating: reads legacy plaintext, writes ciphertext', async () => {
    const [legacy] = await h.db.query<{ id: number }>(
      `INSERT INTO customers (email, phone) VALUES ('legacy@example.com', '555-0100') RETURNING id`,
    );
    const read = await h.prisma.customer.findUniqueOrThrow({ where: { id: legacy.id } });
    expect(read).toMatchObject({ email: 'legacy@example.com', phone: '555-0100' });
    await h.prisma.customer.update({ where: { id: legacy.id }, data: { phone: '555-0199' } });
    const row = await raw('customers', legacy.id);
    expect(isEnvelope(row.phone)).toBe(true);
    expect(row.email).toBe('legacy@example.com'); // untouched until written or re-encrypted by the CLI
    const created = await h.prisma.customer.create({ data: { email: 'New@Example.com', phone: null } });
    expect(isEnvelope((await raw('customers', created.id)).email)).toBe(true);
    expect((await h.prisma.customer.findUnique({ where: { emailIdx: 'new@example.com' } }))?.id).toBe(created.id);
    expect(
      (
        await h.prisma.customer.findMany({ where: { id: { in: [legacy.id, created.id] } }, orderBy: { id: 'asc' } })
      ).map((c) => c.email),
    ).toEqual(['legacy@example.com', 'New@Example.com']);
  });

  it('migrating: refuses a prisma-field-encryption ciphertext instead of returning it as plaintext', async () => {
    const cloaked = await encryptString('pfe@example.com', generateKey());
    const [legacy] = await h.db.query<{ id: number }>('INSERT INTO customers (email) VALUES ($1) RETURNING id', [
      cloaked,
    ]);
    const error = await h.prisma.customer.findUniqueOrThrow({ where: { id: legacy.id } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error).toMatchObject({ model: 'Customer', field: 'email', rowId: undefined });
    expect(String((error as Error).message)).toContain('--from-pfe-key');
    expect(String((error as Error).message)).not.toContain(cloaked);
    expect((await raw('customers', legacy.id)).email).toBe(cloaked); // nothing was written back
  });

  it('migrating: refuses a prisma-field-encryption ciphertext whose fingerprint is upper-case hex (cloak parses it too)', async () => {
    // A fingerprint with at least one hex letter, so upper-casing changes it.
    let parts: string[];
    do parts = (await encryptString('pfe-upper@example.com', generateKey())).split('.');
    while (parts[2] === parts[2].toUpperCase());
    parts[2] = parts[2].toUpperCase();
    const upper = parts.join('.');
    const [legacy] = await h.db.query<{ id: number }>('INSERT INTO customers (email) VALUES ($1) RETURNING id', [
      upper,
    ]);
    await expect(h.prisma.customer.findUniqueOrThrow({ where: { id: legacy.id } })).rejects.toBeInstanceOf(
      DecryptionError,
    );
  });

  it('readonly: decrypts envelopes, writes plaintext and keeps the blind index', async () => {
    const sealed = await h.prisma.customer.create({ data: { email: 'sealed@example.com', phone: '555-0111' } });
    const { prisma } = h.fresh({ schema: readonlySchema() });
    expect((await prisma.customer.findUniqueOrThrow({ where: { id: sealed.id } })).phone).toBe('555-0111');
    const plain = await prisma.customer.create({ data: { email: 'Plain@Example.com', phone: '555-0122' } });
    const row = await raw('customers', plain.id);
    expect(row).toMatchObject({ email: 'Plain@Example.com', phone: '555-0122' });
    expect(row.email_idx).toEqual(expect.any(String));
    expect((await prisma.customer.findUnique({ where: { emailIdx: 'plain@example.com' } }))?.id).toBe(plain.id);
    expect((await prisma.customer.findUnique({ where: { emailIdx: 'sealed@example.com' } }))?.id).toBe(sealed.id);
  });

  it('strict: an envelope of another model is refused, not returned', async () => {
    const user = await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'S', email: 'strict@example.com' },
    });
    const post = await h.prisma.post.create({ data: { title: 't', body: 'strict body', authorId: user.id } });
    await h.db.query(`UPDATE posts SET body = 'plain body' WHERE id = $1`, [post.id]);
    await expect(h.prisma.post.findUnique({ where: { id: post.id } })).rejects.toBeInstanceOf(DecryptionError);
  });

  it('binds ciphertext to the caller-supplied id and refuses to change the id of a bound row', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    const user = await h.prisma.user.create({
      data: { id, emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Given', email: 'given@example.com' },
    });
    expect(user.id).toBe(id);
    const sent = h.queries.length;
    await expect(
      h.prisma.user.update({
        where: { id },
        data: { id: '00000000-0000-4000-8000-000000000002', email: 'moved@example.com' },
      }),
    ).rejects.toMatchObject({ code: 'HUSHFIELD_UNSUPPORTED_QUERY', model: 'User', field: 'id' });
    expect(h.queries.length).toBe(sent);
    await expect(
      h.prisma.user.updateMany({ where: { id }, data: { id: '00000000-0000-4000-8000-000000000003' } }),
    ).rejects.toBeInstanceOf(UnsupportedQueryError);
    expect(h.queries.length).toBe(sent);
    expect((await h.prisma.user.findUniqueOrThrow({ where: { id } })).email).toBe('given@example.com');
  });

  it('moving a row to another scope re-encrypts all its encrypted fields under the new scope', async () => {
    const user = await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 'from',
        name: 'Mover',
        email: 'mover@example.com',
        ssn: '123-00-4567',
        notes: 'moving note',
      },
    });
    const before = await raw('users', user.id);
    const moved = await h.prisma.user.update({ where: { id: user.id }, data: { tenantId: 'to' } });
    expect(moved).toMatchObject({
      tenantId: 'to',
      email: 'mover@example.com',
      ssn: '123-00-4567',
      notes: 'moving note',
    });
    const after = await raw('users', user.id);
    const keyOf = (value: unknown) => String(value).split('$')[2];
    expect(keyOf(after.email)).not.toBe(keyOf(before.email));
    expect(keyOf(after.notes)).toBe(keyOf(after.email));
    expect(wrappedDek(String(after.notes))).toBe(wrappedDek(String(after.email)));
    await h.prisma.$hushfield.crypto.keys.destroyScope('from');
    expect((await h.fresh().prisma.user.findUniqueOrThrow({ where: { id: user.id } })).notes).toBe('moving note');
    expectNoPlaintextInLog(h.queries, ['mover@example.com', '123-00-4567', 'moving note']);
  });

  it('a scope move stops on a value it cannot decrypt, even with onDecryptError null, and keeps it', async () => {
    const user = await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 'from2',
        name: 'Damaged',
        email: 'damaged@example.com',
        notes: 'keep me',
      },
    });
    // The notes envelope of another row (same scope, another row id): it fails to decrypt here.
    const other = await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 'from2',
        name: 'Other',
        email: 'other@example.com',
        notes: 'other note',
      },
    });
    const foreign = (await raw('users', other.id)).notes;
    await h.db.query('UPDATE users SET notes = $1 WHERE id = $2', [foreign, user.id]);
    const { prisma } = h.fresh({ onDecryptError: 'null' });
    await expect(prisma.user.update({ where: { id: user.id }, data: { tenantId: 'to2' } })).rejects.toMatchObject({
      code: 'HUSHFIELD_DECRYPTION_FAILED',
      model: 'User',
      field: 'notes',
    });
    const after = await raw('users', user.id);
    expect(after.tenantId).toBe('from2');
    expect(after.notes).toBe(foreign);
  });

  it('refuses a scope move in updateMany inside a batch transaction', async () => {
    await expect(
      h.prisma.$transaction([h.prisma.user.updateMany({ where: { name: 'Mover' }, data: { tenantId: 'x' } })]),
    ).rejects.toBeInstanceOf(UnsupportedQueryError);
  });

  it('refuses a scope move in a nested write, which would leave the row under the old scope key', async () => {
    const user = await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 'nest-from',
        name: 'NestMover',
        email: 'nestmover@example.com',
        posts: { create: { title: 'nm', body: 'b' } },
      },
    });
    const post = await h.prisma.post.findFirstOrThrow({ where: { authorId: user.id } });
    const sent = h.queries.length;
    await expect(
      h.prisma.post.update({ where: { id: post.id }, data: { author: { update: { tenantId: 'nest-to' } } } }),
    ).rejects.toMatchObject({
      code: 'HUSHFIELD_UNSUPPORTED_QUERY',
      model: 'User',
      field: 'tenantId',
    });
    await expect(
      h.prisma.post.update({
        where: { id: post.id },
        data: { author: { update: { data: { tenantId: { set: 'nest-to' } } } } },
      }),
    ).rejects.toBeInstanceOf(UnsupportedQueryError);
    await expect(
      h.prisma.post.update({
        where: { id: post.id },
        data: {
          author: {
            upsert: {
              create: { emailIdx: computedBlindIndex, tenantId: 'x', name: 'x', email: 'x@example.com' },
              update: { tenantId: 'nest-to' },
            },
          },
        },
      }),
    ).rejects.toBeInstanceOf(UnsupportedQueryError);
    expect(h.queries.length).toBe(sent);
    expect((await raw('users', user.id)).tenantId).toBe('nest-from');
  });
});
