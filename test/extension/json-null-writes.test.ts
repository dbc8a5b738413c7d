/**
 * `null` written to an encrypted Json field is JSON null to Prisma: sealed on every write
 * operation (createMany, upsert on either branch, updateMany, the AndReturn forms), never stored
 * as a plain JSON null; `Prisma.DbNull` stays SQL NULL.
 */
import { Prisma } from '../../prisma/generated/client/client';
import { createHarness, type Harness, isEnvelope } from './support';

describe('null on an encrypted Json field, by write operation', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const storedMeta = async (id: string): Promise<string | null> => {
    const text = { postgresql: 'meta::text', mysql: 'CAST(meta AS CHAR)', sqlite: 'meta' }[h.db.provider];
    const [row] = await h.db.query<{ v: string | null }>(`SELECT ${text} AS v FROM documents WHERE id = $1`, [id]);
    return row.v;
  };
  const expectSealedNull = async (id: string) => {
    const v = await storedMeta(id);
    expect(v).not.toBeNull();
    const json: unknown = JSON.parse(v as string);
    expect(typeof json === 'string' && isEnvelope(json)).toBe(true);
    expect((await h.fresh().prisma.document.findUniqueOrThrow({ where: { id } })).meta).toBeNull();
  };

  it('createMany', async () => {
    await h.prisma.document.createMany({
      data: [{ id: 'cm-1', tenantId: 'acme', title: 't', body: 1, meta: null as never }],
    });
    await expectSealedNull('cm-1');
  });

  it('upsert, create branch and update branch', async () => {
    await h.prisma.document.upsert({
      where: { id: 'up-1' },
      create: { id: 'up-1', tenantId: 'acme', title: 't', body: 1, meta: null as never },
      update: {},
    });
    await expectSealedNull('up-1');
    await h.prisma.document.create({ data: { id: 'up-2', tenantId: 'acme', title: 't', body: 1, meta: { a: 1 } } });
    await h.prisma.document.upsert({
      where: { id: 'up-2' },
      create: { id: 'up-2', tenantId: 'acme', title: 't', body: 1 },
      update: { meta: null as never },
    });
    await expectSealedNull('up-2');
  });

  it('updateMany', async () => {
    await h.prisma.document.create({ data: { id: 'um-1', tenantId: 'acme', title: 't', body: 1, meta: { a: 1 } } });
    await h.prisma.document.updateMany({ where: { id: 'um-1' }, data: { meta: null as never } });
    await expectSealedNull('um-1');
  });

  it('a required Json field set to null', async () => {
    await h.prisma.document.create({ data: { id: 'rq-1', tenantId: 'acme', title: 't', body: null as never } });
    const text = { postgresql: 'body::text', mysql: 'CAST(body AS CHAR)', sqlite: 'body' }[h.db.provider];
    const [row] = await h.db.query<{ v: string | null }>(`SELECT ${text} AS v FROM documents WHERE id = $1`, ['rq-1']);
    expect(isEnvelope(JSON.parse(row.v as string) as string)).toBe(true);
  });

  it('DbNull stays SQL NULL on update', async () => {
    await h.prisma.document.create({ data: { id: 'db-1', tenantId: 'acme', title: 't', body: 1, meta: { a: 1 } } });
    await h.prisma.document.update({ where: { id: 'db-1' }, data: { meta: Prisma.DbNull } });
    expect(await storedMeta('db-1')).toBeNull();
    const found = await h.prisma.document.findMany({ where: { id: 'db-1', meta: { equals: Prisma.DbNull } } });
    expect(found).toHaveLength(1);
  });
});
