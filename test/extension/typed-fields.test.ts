/**
 * Encrypted `Json`, `Bytes` and `String[]` fields (the `Document` model), on every backend the
 * harness has: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. Round trips, Prisma's
 * JSON nulls, refused filters and writes (before any SQL is sent), tampering, values moved
 * between rows, fields and types, and what the database and the query log hold.
 */
import { DecryptionError, InvalidArgumentError, UnsupportedQueryError } from '@hushfield/core';
import { Prisma } from '../../prisma/generated/client/client';
import { createHarness, expectNoPlaintextIn, expectNoPlaintextInLog, type Harness, isEnvelope } from './support';

const backends: ('pglite' | 'postgres')[] = process.env.TEST_DATABASE_URL ? ['postgres', 'pglite'] : ['pglite'];

describe.each(backends)('encrypted Json, Bytes and String[] fields on %s', (backend) => {
  let h: Harness;
  const secrets: string[] = [];
  const secret = <T extends string>(value: T): T => {
    secrets.push(value);
    return value;
  };
  /** Bytes holding a marker that must never reach the database or the log. */
  const secretBytes = (marker: string, size = marker.length): Uint8Array => {
    secret(marker);
    const bytes = new Uint8Array(size);
    bytes.set(Buffer.from(marker, 'latin1'), Math.max(0, (size - marker.length) >> 1));
    return bytes;
  };
  type Raw = { id: string; body: unknown; meta: unknown; blob: Uint8Array | null; tags: string[] | null; note: string };
  const raw = async (id: string): Promise<Raw> =>
    (await h.db.query<Raw>('SELECT * FROM documents WHERE id = $1', [id]))[0];
  const setRaw = async (id: string, column: string, value: unknown, cast = '') =>
    h.db.query(`UPDATE documents SET "${column}" = $1${cast} WHERE id = $2`, [value, id]);
  const sent = () => h.queries.length;

  const create = (data: Partial<Prisma.DocumentCreateInput> = {}) =>
    h.prisma.document.create({ data: { tenantId: 'acme', title: 't', body: { a: 1 }, ...data } });

  beforeAll(async () => {
    h = await createHarness({}, backend);
  });
  afterEach(async () => {
    await expectNoPlaintextIn(h.db, 'documents', secrets);
    expectNoPlaintextInLog(h.queries, secrets);
  });
  afterAll(async () => {
    await h.close();
  });

  it('round-trips every type and stores only envelopes', async () => {
    const body = {
      patient: secret('Ada Lovelace'),
      visits: [1, 2.5, -3e21, { note: secret('migraine since 1842'), ok: true }],
      empty: {},
      nothing: null,
      unicode: secret('Zoë ☃ 𝄞'),
    };
    const blob = secretBytes('SCAN-OF-PASSPORT-0042', 4096);
    const tags = [secret('diagnosis:flu'), secret('allergy:penicillin'), secret('diagnosis:flu')];
    const doc = await create({ body, meta: [secret('meta-array'), 7], blob, tags, note: secret('a note') });
    expect(doc).toMatchObject({ body, meta: ['meta-array', 7], tags, note: 'a note' });
    expect(doc.blob).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(doc.blob!).equals(Buffer.from(blob))).toBe(true);

    const stored = await raw(doc.id);
    // The Json columns hold a JSON string: the envelope (valid jsonb).
    expect(typeof stored.body).toBe('string');
    expect(isEnvelope(stored.body)).toBe(true);
    expect(isEnvelope(stored.meta)).toBe(true);
    expect(Buffer.from(stored.blob!).subarray(0, 3).toString('latin1')).toBe('hfb');
    // Binary, not base64: overhead is the header and the tag, not a third of the value.
    expect(stored.blob!.length).toBeLessThan(blob.length + 200);
    expect(stored.tags).toHaveLength(3);
    for (const tag of stored.tags!) expect(isEnvelope(tag)).toBe(true);
    // Equal elements are sealed apart (position bound, fresh nonce).
    expect(stored.tags![0]).not.toBe(stored.tags![2]);

    const read = await h.fresh().prisma.document.findUnique({ where: { id: doc.id } });
    expect(read).toMatchObject({ body, meta: ['meta-array', 7], tags, note: 'a note' });
    expect(read!.blob).toEqual(new Uint8Array(blob));
  });

  it.each<[string, Prisma.InputJsonValue]>([
    ['a number', 42],
    ['zero', 0],
    ['false', false],
    ['a string', 'plain words'],
    ['a string that looks like an envelope', 'hfe$1$x$1$y$z'],
    ['an array', [1, 'two', [3], { four: 4 }]],
    ['an empty object', {}],
  ])('round-trips %s as a Json value', async (_label, value) => {
    const doc = await create({ body: value });
    expect(isEnvelope((await raw(doc.id)).body)).toBe(true);
    expect((await h.fresh().prisma.document.findUniqueOrThrow({ where: { id: doc.id } })).body).toEqual(value);
  });

  it('seals Prisma.JsonNull as a value and keeps Prisma.DbNull as SQL NULL', async () => {
    const jsonNull = await create({ meta: Prisma.JsonNull });
    const dbNull = await create({ meta: Prisma.DbNull });
    const object = await create({ meta: { k: 1 } });
    // A sealed JSON null is an envelope like any other value: the database cannot tell it apart.
    expect(isEnvelope((await raw(jsonNull.id)).meta)).toBe(true);
    expect((await raw(dbNull.id)).meta).toBeNull();
    const fresh = h.fresh().prisma;
    expect((await fresh.document.findUniqueOrThrow({ where: { id: jsonNull.id } })).meta).toBeNull();
    expect((await fresh.document.findUniqueOrThrow({ where: { id: dbNull.id } })).meta).toBeNull();
    // SQL NULL stays filterable; JSON null and AnyNull would need to see into the sealed value.
    const nulls = await fresh.document.findMany({ where: { meta: { equals: Prisma.DbNull } }, select: { id: true } });
    expect(nulls.map((row) => row.id)).toContain(dbNull.id);
    expect(nulls.map((row) => row.id)).not.toContain(jsonNull.id);
    expect(nulls.map((row) => row.id)).not.toContain(object.id);
    const notNull = await fresh.document.findMany({ where: { meta: { not: Prisma.DbNull } }, select: { id: true } });
    expect(notNull.map((row) => row.id)).toEqual(expect.arrayContaining([jsonNull.id, object.id]));
    for (const marker of [Prisma.JsonNull, Prisma.AnyNull]) {
      await expect(fresh.document.findMany({ where: { meta: { equals: marker } } })).rejects.toThrow(
        UnsupportedQueryError,
      );
    }
    // An update to DbNull clears the column; to JsonNull seals again.
    await h.prisma.document.update({ where: { id: object.id }, data: { meta: Prisma.DbNull } });
    expect((await raw(object.id)).meta).toBeNull();
    await h.prisma.document.update({ where: { id: object.id }, data: { meta: Prisma.JsonNull } });
    expect(isEnvelope((await raw(object.id)).meta)).toBe(true);
  });

  it('round-trips empty and large (16 MiB on PostgreSQL) buffers, and a null Bytes', async () => {
    const empty = await create({ blob: new Uint8Array(0) });
    expect(
      Buffer.from((await raw(empty.id)).blob!)
        .subarray(0, 3)
        .toString('latin1'),
    ).toBe('hfb');
    expect((await h.fresh().prisma.document.findUniqueOrThrow({ where: { id: empty.id } })).blob).toEqual(
      new Uint8Array(0),
    );
    // PGlite (WebAssembly, in process) takes minutes over 16 MiB: 1 MiB there, 16 MiB on PostgreSQL.
    const big = new Uint8Array(backend === 'pglite' ? 1024 * 1024 : 16 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    const large = await h.prisma.document.create({
      data: { tenantId: 'acme', title: 'big', body: 1, blob: big },
      select: { id: true },
    });
    const back = await h.fresh().prisma.document.findUniqueOrThrow({ where: { id: large.id }, select: { blob: true } });
    expect(back.blob!.length).toBe(big.length);
    expect(Buffer.from(back.blob!).equals(Buffer.from(big))).toBe(true);
    // The 16 MiB row and its logged parameters would only slow every later scan down.
    await expectNoPlaintextIn(h.db, 'documents', secrets);
    expectNoPlaintextInLog(h.queries, secrets);
    await h.db.query('DELETE FROM documents WHERE id = $1', [large.id]);
    h.queries.length = 0;
    const nothing = await create({ blob: null });
    expect((await raw(nothing.id)).blob).toBeNull();
    expect((await h.prisma.document.findUniqueOrThrow({ where: { id: nothing.id } })).blob).toBeNull();
    // Above the cap: refused before anything is sent.
    const before = sent();
    await expect(create({ blob: new Uint8Array(16 * 1024 * 1024 + 1) })).rejects.toThrow(InvalidArgumentError);
    expect(sent()).toBe(before);
  }, 120_000);

  it('updates lists whole (set or a new array), Bytes through set, and an empty list', async () => {
    const doc = await create({ tags: [secret('first-tag')] });
    await h.prisma.document.update({ where: { id: doc.id }, data: { tags: { set: [secret('x-tag'), 'y'] } } });
    expect((await h.fresh().prisma.document.findUniqueOrThrow({ where: { id: doc.id } })).tags).toEqual(['x-tag', 'y']);
    const updated = await h.prisma.document.update({
      where: { id: doc.id },
      data: { tags: [], blob: { set: new Uint8Array([1, 2, 3]) }, body: { v: 2 } },
    });
    expect(updated).toMatchObject({ tags: [], body: { v: 2 }, blob: new Uint8Array([1, 2, 3]) });
    expect((await raw(doc.id)).tags).toEqual([]);
    const many = await h.prisma.document.createManyAndReturn({
      data: [
        { tenantId: 'acme', title: 'm1', body: { n: secret('many-one') }, tags: ['a'] },
        { tenantId: 'beta', title: 'm2', body: { n: secret('many-two') }, tags: ['b', 'c'] },
      ],
    });
    expect(many.map((row) => [row.body, row.tags])).toEqual([
      [{ n: 'many-one' }, ['a']],
      [{ n: 'many-two' }, ['b', 'c']],
    ]);
    await h.prisma.document.updateMany({ where: { title: 'm2' }, data: { body: { n: 'updated' } } });
    expect((await h.prisma.document.findFirstOrThrow({ where: { title: 'm2' } })).body).toEqual({ n: 'updated' });
  });

  it('refuses JSON and list filters and bad values before any SQL is sent', async () => {
    const doc = await create({ tags: ['t'] });
    const refused: [string, () => Promise<unknown>, new (...args: never[]) => Error][] = [
      [
        'path',
        () => h.prisma.document.findMany({ where: { body: { path: ['a'], equals: 1 } } }),
        UnsupportedQueryError,
      ],
      ['equals', () => h.prisma.document.findMany({ where: { body: { equals: { a: 1 } } } }), UnsupportedQueryError],
      [
        'array_contains',
        () => h.prisma.document.findMany({ where: { meta: { array_contains: [7] } } }),
        UnsupportedQueryError,
      ],
      [
        'string_contains',
        () => h.prisma.document.findMany({ where: { body: { string_contains: 'Ada' } } }),
        UnsupportedQueryError,
      ],
      [
        'has',
        () => h.prisma.document.findMany({ where: { tags: { has: secret('needle-tag') } } }),
        UnsupportedQueryError,
      ],
      ['hasSome', () => h.prisma.document.findMany({ where: { tags: { hasSome: ['a'] } } }), UnsupportedQueryError],
      ['hasEvery', () => h.prisma.document.findMany({ where: { tags: { hasEvery: ['a'] } } }), UnsupportedQueryError],
      ['isEmpty', () => h.prisma.document.findMany({ where: { tags: { isEmpty: true } } }), UnsupportedQueryError],
      ['list equals', () => h.prisma.document.findMany({ where: { tags: { equals: ['t'] } } }), UnsupportedQueryError],
      [
        'bytes equals',
        () => h.prisma.document.findMany({ where: { blob: { equals: new Uint8Array([1]) } } }),
        UnsupportedQueryError,
      ],
      [
        'under OR',
        () => h.prisma.document.findMany({ where: { OR: [{ body: { path: ['x'], equals: 1 } }] } }),
        UnsupportedQueryError,
      ],
      [
        'push',
        () => h.prisma.document.update({ where: { id: doc.id }, data: { tags: { push: 'z' } } }),
        UnsupportedQueryError,
      ],
      ['a list of numbers', () => create({ tags: [1] as unknown as string[] }), InvalidArgumentError],
      ['a string for Bytes', () => create({ blob: 'abc' as unknown as Uint8Array }), InvalidArgumentError],
      [
        'undefined in a Json list (Prisma refuses it too)',
        () => create({ body: [1, undefined] as unknown as Prisma.InputJsonValue }),
        InvalidArgumentError,
      ],
      ['a lone surrogate in a list', () => create({ tags: ['\uD800'] }), InvalidArgumentError],
    ];
    for (const [label, query, type] of refused) {
      const before = sent();
      await expect(query()).rejects.toThrow(type);
      expect([label, sent()]).toEqual([label, before]);
    }
    // A list filter's refusal speaks of a list whose elements are sealed one by one, not of a value sealed whole.
    for (const where of [{ tags: { has: 'a' } }, { tags: ['a'] }, { tags: { equals: ['a'] } }]) {
      const error = await h.prisma.document.findMany({ where: where as never }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/^Document\.tags is an encrypted list, each element sealed on its own/);
      expect(error?.message).not.toMatch(/sealed whole|JSON null/);
    }
    // Null checks on Bytes are answered by the database.
    expect(await h.prisma.document.count({ where: { id: doc.id, blob: null } })).toBe(1);
    expect(await h.prisma.document.count({ where: { id: doc.id, blob: { not: null } } })).toBe(0);
  });

  describe('stored values that were tampered with or moved', () => {
    let a: { id: string };
    let b: { id: string };
    beforeEach(async () => {
      a = await create({
        body: { who: 'a' },
        meta: { m: 'a' },
        blob: new Uint8Array([1, 2, 3]),
        tags: ['a0', 'a1', 'a2'],
        note: 'na',
      });
      b = await create({
        body: { who: 'b' },
        meta: { m: 'b' },
        blob: new Uint8Array([4, 5, 6]),
        tags: ['b0', 'b1'],
        note: 'nb',
      });
    });
    const read = (id: string) => h.fresh().prisma.document.findUniqueOrThrow({ where: { id } });
    const json = (value: unknown) => JSON.stringify(value);

    it('fails on a flipped bit in each type', async () => {
      const stored = await raw(a.id);
      const blob = Buffer.from(stored.blob!);
      blob[blob.length - 20] ^= 1;
      await setRaw(a.id, 'blob', blob);
      await expect(read(a.id)).rejects.toThrow(DecryptionError);
      await setRaw(a.id, 'blob', Buffer.from(stored.blob!));
      const body = stored.body as string;
      await setRaw(a.id, 'body', json(body.slice(0, -2) + (body.at(-2) === 'A' ? 'B' : 'A') + body.at(-1)), '::jsonb');
      await expect(read(a.id)).rejects.toThrow(DecryptionError);
      await setRaw(a.id, 'body', json(body), '::jsonb');
      expect((await read(a.id)).body).toEqual({ who: 'a' });
    });

    it("reads a value that fails as null under onDecryptError: 'null', the others as their own types", async () => {
      const stored = await raw(a.id);
      await setRaw(a.id, 'tags', [stored.tags![1], stored.tags![0], stored.tags![2]]);
      const lenient = h.fresh({ onDecryptError: 'null' }).prisma;
      const doc = await lenient.document.findUniqueOrThrow({ where: { id: a.id } });
      await setRaw(a.id, 'tags', stored.tags);
      expect(doc.tags).toBeNull();
      // typed `JsonValue | null`, `Bytes | null`: a string method here would not compile
      expect(doc.body).toEqual({ who: 'a' });
      expect(doc.blob).toBeInstanceOf(Uint8Array);
      expect(doc.note).toBe('na');
    });

    it('fails when list elements are reordered, dropped, repeated or taken from another row', async () => {
      const tags = (await raw(a.id)).tags!;
      const other = (await raw(b.id)).tags!;
      for (const changed of [
        [tags[1], tags[0], tags[2]],
        tags.slice(0, 2),
        [...tags, tags[2]],
        [tags[0], tags[1], other[1]],
      ]) {
        await setRaw(a.id, 'tags', changed);
        await expect(read(a.id)).rejects.toThrow(DecryptionError);
      }
      await setRaw(a.id, 'tags', tags);
      expect((await read(a.id)).tags).toEqual(['a0', 'a1', 'a2']);
    });

    it('fails on values swapped between rows, between fields and between types', async () => {
      const sa = await raw(a.id);
      const sb = await raw(b.id);
      const moves: [string, unknown, string][] = [
        ['body', json(sb.body), '::jsonb'], // another row's Json
        ['blob', Buffer.from(sb.blob!), ''], // another row's Bytes
        ['meta', json(sa.body), '::jsonb'], // another Json field of the same row
        ['meta', json(sa.note), '::jsonb'], // a String envelope of the same row into a Json field
        ['note', sa.tags![0], ''], // a list element into a String field
        ['note', sa.meta, ''], // a Json envelope into a String field
        ['tags', [sa.note], ''], // a String envelope as a one-element list
      ];
      for (const [column, value, cast] of moves) {
        await setRaw(a.id, column, value, cast);
        await expect(read(a.id)).rejects.toThrow(DecryptionError);
        await setRaw(
          a.id,
          column,
          column === 'blob'
            ? Buffer.from(sa.blob!)
            : column === 'tags'
              ? sa.tags
              : cast
                ? json((sa as Record<string, unknown>)[column])
                : (sa as Record<string, unknown>)[column],
          cast,
        );
      }
      expect(await read(a.id)).toMatchObject({
        body: { who: 'a' },
        meta: { m: 'a' },
        note: 'na',
        tags: ['a0', 'a1', 'a2'],
      });
    });

    it('refuses plaintext in a strict field of each type', async () => {
      await setRaw(a.id, 'body', json({ who: 'plain' }), '::jsonb');
      await expect(read(a.id)).rejects.toThrow(DecryptionError);
      await setRaw(a.id, 'body', json((await raw(b.id)).body), '::jsonb');
      await setRaw(b.id, 'blob', Buffer.from('plain bytes'));
      await expect(read(b.id)).rejects.toThrow(DecryptionError);
      await setRaw(b.id, 'tags', ['plain', (await raw(b.id)).tags![1]]);
      await expect(
        h.prisma.document.findUniqueOrThrow({ where: { id: b.id }, select: { tags: true } }),
      ).rejects.toThrow(DecryptionError);
    });
  });
});
