/**
 * Encrypted `Json` and `Bytes` fields on every provider of the matrix (PostgreSQL, MySQL/MariaDB,
 * SQLite): round trips, what each database stores (a JSON string holding the envelope, the
 * binary `hfb` envelope), JSON filters refused before SQL, and stored values flipped or moved
 * between rows failing. The PostgreSQL-only parts (lists, 16 MiB values) are in typed-fields.
 */
import { DecryptionError, UnsupportedQueryError } from '@hushfield/core';
import { Prisma } from '../../prisma/generated/client/client';
import { testProvider } from '../support/provider';
import { createHarness, expectNoPlaintextIn, expectNoPlaintextInLog, type Harness, isEnvelope } from './support';

describe(`encrypted Json and Bytes on ${testProvider()}`, () => {
  let h: Harness;
  const secrets = ['Grace Hopper', 'COBOL-1959', 'RAW-BYTES-MARKER'];

  /** A stored JSON column as JSON text, whichever way the driver returns it (parsed or text). */
  const jsonText = (value: unknown): string =>
    typeof value === 'string' && value.startsWith('"') ? value : JSON.stringify(value);
  const stored = async (id: string) =>
    (
      await h.db.query<{ body: unknown; meta: unknown; blob: Uint8Array | null }>(
        'SELECT body, meta, "blob" FROM documents WHERE id = $1',
        [id],
      )
    )[0];
  const read = (id: string) => h.fresh().prisma.document.findUniqueOrThrow({ where: { id } });

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await expectNoPlaintextIn(h.db, 'documents', secrets);
    expectNoPlaintextInLog(h.queries, secrets);
    await h.close();
  });

  it('round-trips Json and Bytes and stores only envelopes', async () => {
    const body = { name: 'Grace Hopper', langs: ['COBOL-1959', 1959], nested: { ok: true, none: null } };
    const blob = Buffer.concat([Buffer.from('RAW-BYTES-MARKER'), Buffer.alloc(64 * 1024, 7)]);
    const doc = await h.prisma.document.create({
      data: { tenantId: 'acme', title: 't', body, meta: Prisma.JsonNull, blob },
    });
    expect(doc.body).toEqual(body);
    const row = await stored(doc.id);
    expect(isEnvelope(JSON.parse(jsonText(row.body)))).toBe(true);
    expect(isEnvelope(JSON.parse(jsonText(row.meta)))).toBe(true);
    expect(Buffer.from(row.blob!).subarray(0, 3).toString('latin1')).toBe('hfb');
    expect(row.blob!.length).toBeLessThan(blob.length + 200);
    const back = await read(doc.id);
    expect(back.body).toEqual(body);
    expect(back.meta).toBeNull();
    expect(Buffer.from(back.blob!).equals(blob)).toBe(true);
  });

  it.each<[string, Prisma.InputJsonValue]>([
    ['a number', 42],
    ['false', false],
    ['a string', 'plain words'],
    ['an array', [1, 'two', [3]]],
    ['an empty object', {}],
  ])('round-trips %s', async (_label, value) => {
    const doc = await h.prisma.document.create({ data: { tenantId: 'acme', title: 't', body: value } });
    expect((await read(doc.id)).body).toEqual(value);
  });

  it('keeps Prisma.DbNull as SQL NULL and an empty Bytes as a sealed value', async () => {
    const doc = await h.prisma.document.create({
      data: { tenantId: 'acme', title: 't', body: 1, meta: Prisma.DbNull, blob: new Uint8Array(0) },
    });
    const row = await stored(doc.id);
    expect(row.meta).toBeNull();
    expect(Buffer.from(row.blob!).subarray(0, 3).toString('latin1')).toBe('hfb');
    expect((await read(doc.id)).blob).toEqual(new Uint8Array(0));
  });

  it('refuses JSON filters before any SQL is sent', async () => {
    const before = h.queries.length;
    await expect(
      h.prisma.document.findMany({ where: { body: { path: ['name'], equals: 'Grace Hopper' } } }),
    ).rejects.toThrow(UnsupportedQueryError);
    await expect(h.prisma.document.findMany({ where: { body: { equals: { a: 1 } } } })).rejects.toThrow(
      UnsupportedQueryError,
    );
    expect(h.queries.length).toBe(before);
  });

  it('fails on a flipped bit and on values moved between rows', async () => {
    const make = (n: number) =>
      h.prisma.document.create({
        data: { tenantId: 'acme', title: `m${n}`, body: { n }, blob: Buffer.from(`bytes ${n}`) },
      });
    const [a, b] = [await make(1), await make(2)];
    const rowB = await stored(b.id);
    await h.db.query('UPDATE documents SET body = $1 WHERE id = $2', [jsonText(rowB.body), a.id]);
    await expect(read(a.id)).rejects.toBeInstanceOf(DecryptionError);
    const flipped = Buffer.from(rowB.blob!);
    flipped[flipped.length - 1] ^= 1;
    await h.db.query('UPDATE documents SET "blob" = $1 WHERE id = $2', [flipped, b.id]);
    await expect(
      h.fresh().prisma.document.findUniqueOrThrow({ where: { id: b.id }, select: { blob: true } }),
    ).rejects.toBeInstanceOf(DecryptionError);
    expect(
      (await h.fresh().prisma.document.findUniqueOrThrow({ where: { id: b.id }, select: { body: true } })).body,
    ).toEqual({ n: 2 });
  });
});
