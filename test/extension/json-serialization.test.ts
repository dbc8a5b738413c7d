/**
 * An encrypted Json field stores what plain Prisma would store in a plain Json column for the
 * same input, and refuses what Prisma refuses: each case is written through plain Prisma and
 * through the extension to the same columns (`body Json`, `meta Json?`), on every provider.
 * Byte arrays inside a JSON value are base64 strings, a Decimal given as the whole value a JSON
 * number, a BigInt its digits, a null marker inside a value its name; `null` is JSON null (sealed,
 * never stored as plain JSON); `undefined` in a list, functions, symbols and invalid Dates are
 * refused before any query, by a typed error that shows no part of the value.
 */
import { InvalidArgumentError, UnsupportedQueryError } from '@hushfield/core';
import { Prisma } from '../../prisma/generated/client/client';
import { testProvider } from '../support/provider';
import {
  createHarness,
  expectNoPlaintextIn,
  expectNoPlaintextInLog,
  type Harness,
  isEnvelope,
  rejection,
} from './support';

type JsonField = 'body' | 'meta';

describe(`encrypted Json values serialize as Prisma serializes them on ${testProvider()}`, () => {
  let h: Harness;
  /** A second client, which reads what the first wrote without its write-side caches. */
  let reader: ReturnType<Harness['fresh']>;
  beforeAll(async () => {
    h = await createHarness();
    reader = h.fresh();
  });
  afterAll(async () => {
    await expectNoPlaintextIn(h.db, 'documents', ['REFUSED-SECRET']);
    expectNoPlaintextInLog(h.queries, ['REFUSED-SECRET']);
    await h.close();
  });

  const create = (client: 'base' | 'prisma', field: JsonField, value: unknown) =>
    (h[client].document.create as (args: unknown) => Promise<{ id: string }>)({
      data: { tenantId: client === 'base' ? 'plain' : 'acme', title: 't', body: 1, [field]: value },
    });

  /** What the column holds: SQL NULL, or its JSON value (a JSON string for an envelope). */
  const stored = async (id: string, field: JsonField): Promise<{ sqlNull: boolean; json: unknown }> => {
    // As text on every provider (the PostgreSQL and MariaDB drivers would parse it).
    const text = { postgresql: `${field}::text`, mysql: `CAST(${field} AS CHAR)`, sqlite: field }[h.db.provider];
    const [row] = await h.db.query<{ v: string | null }>(`SELECT ${text} AS v FROM documents WHERE id = $1`, [id]);
    return row.v === null ? { sqlNull: true, json: undefined } : { sqlNull: false, json: JSON.parse(row.v) };
  };

  /** What plain Prisma stores and reads back for `value` in the same (unencrypted) column. */
  const viaPrisma = async (field: JsonField, value: unknown) => {
    const doc = await create('base', field, value);
    const read = (await h.base.document.findUniqueOrThrow({ where: { id: doc.id } }))[field];
    return { read, stored: await stored(doc.id, field) };
  };

  /** Writes `value` through the extension, checks it is sealed, and returns what another client reads. */
  const viaExtension = async (field: JsonField, value: unknown) => {
    const doc = await create('prisma', field, value);
    const row = await stored(doc.id, field);
    expect(row.sqlNull).toBe(false);
    expect(typeof row.json === 'string' && isEnvelope(row.json)).toBe(true);
    return (await reader.prisma.document.findUniqueOrThrow({ where: { id: doc.id } }))[field];
  };

  const sparse: unknown[] = ['REFUSED-SECRET'];
  sparse[2] = 'x';

  describe.each<JsonField>(['body', 'meta'])('on %s', (field) => {
    it.each<[string, () => unknown]>([
      ['a Buffer inside an object', () => ({ credentialId: Buffer.from([1, 2, 250]) })],
      ['a Uint8Array inside an object', () => ({ key: new Uint8Array([9, 8, 7]) })],
      ['byte arrays inside a list', () => [Buffer.from('ab'), new Uint8Array([0])]],
      ['a Buffer at the top', () => Buffer.from([1, 2, 3])],
      ['a Decimal at the top (a JSON number to Prisma)', () => new Prisma.Decimal('2.5')],
      ['a Decimal inside an object (its string)', () => ({ amount: new Prisma.Decimal('-0.001') })],
      ['a Decimal in exponent form inside a list', () => [new Prisma.Decimal('1e-7')]],
      ['null (JSON null, sealed)', () => null],
      ['Prisma.JsonNull at the top', () => Prisma.JsonNull],
      ['Prisma.JsonNull inside an object (its name)', () => ({ a: Prisma.JsonNull })],
      ['Prisma.JsonNull inside a list', () => [Prisma.JsonNull, { b: Prisma.JsonNull }]],
      ['Prisma.DbNull and AnyNull inside a value', () => ({ d: Prisma.DbNull, a: [Prisma.AnyNull] })],
      ['a BigInt at the top', () => -42n],
      ['BigInts inside an object, beyond 64 bits too', () => ({ n: -1n, big: 12345678901234567890n })],
      ['a Date at the top', () => new Date(0)],
      ['a Date inside an object', () => ({ at: new Date(Date.UTC(2024, 1, 29)) })],
      ['NaN at the top', () => Number.NaN],
      ['NaN and Infinity inside an object', () => ({ x: Number.NaN, y: -Infinity, z: -0 })],
      ['an object with toJSON at the top', () => ({ toJSON: () => 'as json' })],
      ['an object with toJSON inside, returning undefined', () => ({ a: { toJSON: () => undefined }, b: 1 })],
      ['undefined inside an object (left out)', () => ({ a: undefined, b: 1 })],
      ['symbol keys (left out)', () => ({ a: 1, [Symbol('s')]: 2 })],
      ['a Map and a Set inside (empty objects)', () => ({ m: new Map([[1, 2]]), s: new Set([1]) })],
      [
        'a class instance inside',
        () => ({
          c: new (class Point {
            x = 1;
            y = 2;
          })(),
        }),
      ],
      ['inherited enumerable keys', () => Object.create({ up: 1 }, { own: { value: 2, enumerable: true } })],
      [
        'an object with a $type key (taken as it is)',
        () => ({ o: { $type: 'x', at: new Date(0), b: Buffer.from([1]) } }),
      ],
      // Prisma writes its query with a replacer: a BigInt is its digits, a byte array its base64.
      ['BigInts under a toJSON result (its digits)', () => ({ a: { toJSON: () => ({ n: 5n, big: 2n ** 70n }) } })],
      ['a toJSON result that is a BigInt', () => ({ a: { toJSON: () => -42n } })],
      [
        'a Uint8Array under a toJSON result (its base64)',
        () => ({ a: { toJSON: () => ({ u: new Uint8Array([1, 250]) }) } }),
      ],
      [
        'a BigInt and a Uint8Array under a $type object',
        () => ({ o: { $type: 'x', n: -7n, u: new Uint8Array([1, 2, 250]) } }),
      ],
    ])('%s', async (_what, make) => {
      const expected = await viaPrisma(field, make());
      expect(expected.stored.sqlNull).toBe(false);
      const read = await viaExtension(field, make());
      expect(read).toEqual(expected.read);
    });

    it.each<[string, () => unknown]>([
      ['undefined inside a list', () => ['REFUSED-SECRET', undefined, 2]],
      ['a sparse list', () => sparse],
      ['a function inside an object', () => ({ secret: 'REFUSED-SECRET', f: () => 1 })],
      ['a function inside a list', () => ['REFUSED-SECRET', () => 1]],
      ['a function at the top', () => () => 'REFUSED-SECRET'],
      ['a symbol inside an object', () => ({ secret: 'REFUSED-SECRET', s: Symbol('x') })],
      ['an invalid Date inside an object', () => ({ secret: 'REFUSED-SECRET', d: new Date(Number.NaN) })],
      ['Prisma.AnyNull at the top', () => Prisma.AnyNull],
    ])('refuses %s, as Prisma does, before any query and showing no value', async (_what, make) => {
      await expect(create('base', field, make())).rejects.toBeInstanceOf(Prisma.PrismaClientValidationError);
      const before = h.queries.length;
      const rows = await h.base.document.count();
      const error = await create('prisma', field, make()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toBe(`Document.${field}`);
      expect((error as Error).message).not.toContain('REFUSED-SECRET');
      expect((error as Error).message).not.toContain('secret');
      expect(h.queries.length).toBe(before + 1); // the count above, nothing of the refused write
      expect(await h.base.document.count()).toBe(rows);
    });

    it('seals an update to null (JSON null), as Prisma stores JSON null there', async () => {
      const expected = await viaPrisma(field, { a: 1 });
      await h.base.document.updateMany({ where: { tenantId: 'plain' }, data: { [field]: null as never } });
      expect(
        (await stored((await h.base.document.findFirstOrThrow({ where: { tenantId: 'plain' } })).id, field)).sqlNull,
      ).toBe(false);
      expect(expected.stored.sqlNull).toBe(false);
      const doc = await create('prisma', field, { a: 'REFUSED-SECRET'.toLowerCase() });
      await h.prisma.document.update({ where: { id: doc.id }, data: { [field]: null as never } });
      const row = await stored(doc.id, field);
      expect(typeof row.json === 'string' && isEnvelope(row.json)).toBe(true);
      expect((await reader.prisma.document.findUniqueOrThrow({ where: { id: doc.id } }))[field]).toBeNull();
    });
  });

  it("differs from plain Prisma only as the README says: a BigInt beyond 64 bits as the whole value, jsonb's key order, and what jsonb cannot hold", async () => {
    const big = 2n ** 70n + 1n;
    // Plain Prisma cannot write it (nor any BigInt beyond 64 bits as the whole value): sealed as its digits.
    await expect(create('base', 'body', big)).rejects.toBeInstanceOf(Prisma.PrismaClientUnknownRequestError);
    await expect(create('base', 'body', -big)).rejects.toBeInstanceOf(Prisma.PrismaClientUnknownRequestError);
    expect(await viaExtension('body', big)).toBe(String(big));
    expect(await viaExtension('body', -big)).toBe(String(-big));
    // A filter on it is refused (a sealed value is compared with nothing), naming no value.
    const refused = await rejection(h.prisma.document.findMany({ where: { body: { equals: big } } } as never));
    expect(refused).toBeInstanceOf(UnsupportedQueryError);
    expect(`${String(refused)}\n${JSON.stringify(refused)}`).not.toContain(String(big));
    // A sealed value reads back in the order it was written; jsonb reorders a plain column's keys.
    const order = { beta: 1, alfa: { y: 2, b: 1 } };
    const sealed = (await viaExtension('body', order)) as Record<string, Record<string, unknown>>;
    expect([Object.keys(sealed), Object.keys(sealed.alfa)]).toEqual([
      ['beta', 'alfa'],
      ['y', 'b'],
    ]);
    const plain = (await viaPrisma('body', order)).read as Record<string, Record<string, unknown>>;
    if (h.db.provider === 'postgresql')
      expect([Object.keys(plain), Object.keys(plain.alfa)]).toEqual([
        ['alfa', 'beta'],
        ['b', 'y'],
      ]);
    // jsonb holds no U+0000 and no lone surrogate: a plain column refuses them, a sealed value holds them.
    for (const value of [{ k: 'a\u0000b' }, { ['k\u0000']: 1 }, { k: 'x\ud800' }]) {
      expect(await viaExtension('body', value)).toEqual(value);
      // (MariaDB's json_valid check refuses the lone surrogate too; SQLite stores all three.)
      if (h.db.provider === 'postgresql')
        await expect(create('base', 'body', value)).rejects.toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    }
  });

  it('keeps Prisma.DbNull SQL NULL on the optional field and leaves it to Prisma to refuse on the required one', async () => {
    expect((await viaPrisma('meta', Prisma.DbNull)).stored.sqlNull).toBe(true);
    const doc = await create('prisma', 'meta', Prisma.DbNull);
    expect((await stored(doc.id, 'meta')).sqlNull).toBe(true);
    await expect(create('base', 'body', Prisma.DbNull)).rejects.toBeInstanceOf(Prisma.PrismaClientValidationError);
    await expect(create('prisma', 'body', Prisma.DbNull)).rejects.toBeInstanceOf(Prisma.PrismaClientValidationError);
  });
});
