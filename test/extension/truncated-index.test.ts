import { UnsupportedQueryError } from '@hushfield/core';
import { blindIndexSpec, computedBlindIndex } from '@hushfield/prisma';
import { createHarness, expectNoPlaintextInLog, hushfieldSchema, type Harness } from './support';

describe('fieldEncryption: truncated blind indexes (candidates, then false positives dropped)', () => {
  let h: Harness;
  let a: string; // ssn of the row we look for
  let b: string; // a different ssn whose 16-bit index collides with a's
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    h = await createHarness();
    const model = hushfieldSchema.models.User;
    const spec = blindIndexSpec(model, model.blindIndexes.ssnIdx);
    const seen = new Map<string, string>();
    for (let i = 0; i < 20_000; i++) {
      const ssn = `${String(100 + (i % 900)).padStart(3, '0')}-${String(10 + (i % 89))}-${String(1000 + i).slice(-4)}`;
      const index = await h.prisma.$hushfield.crypto.blindIndex(spec, ssn);
      const other = seen.get(index);
      if (other !== undefined && other.replace(/\D/g, '') !== ssn.replace(/\D/g, '')) {
        [a, b] = [other, ssn];
        break;
      }
      seen.set(index, ssn);
    }
    expect(a).toBeDefined();
    // b's row sorts first by name, so a naive findFirst on the index would return it
    for (const [name, ssn] of [
      ['0-collider', b],
      ['1-wanted', a],
      ['2-other', '555-55-5555'],
    ] as const) {
      ids[name] = (
        await h.prisma.user.create({
          data: { tenantId: 'acme', name, email: `${name}@example.com`, emailIdx: computedBlindIndex, ssn },
        })
      ).id;
    }
  });
  afterEach(() => {
    expectNoPlaintextInLog(h.queries, [a, b, a.replace(/\D/g, ''), b.replace(/\D/g, '')]);
  });
  afterAll(async () => {
    await h.close();
  });

  it('the two test values really collide in the stored index', async () => {
    const rows = await h.db.query<{ ssn_idx: string }>('SELECT ssn_idx FROM users WHERE id IN ($1, $2)', [
      ids['0-collider'],
      ids['1-wanted'],
    ]);
    expect(rows[0].ssn_idx).toBe(rows[1].ssn_idx);
  });

  it('findMany, count and in return only true matches', async () => {
    expect((await h.prisma.user.findMany({ where: { ssn: a } })).map((u) => u.name)).toEqual(['1-wanted']);
    expect(await h.prisma.user.count({ where: { ssn: a } })).toBe(1);
    const both = await h.prisma.user.findMany({ where: { ssn: { in: [a, '555555555'] } }, orderBy: { name: 'asc' } });
    expect(both.map((u) => u.name)).toEqual(['1-wanted', '2-other']);
    expect(await h.prisma.user.findMany({ where: { ssn: a.replace(/\D/g, '') }, select: { name: true } })).toEqual([
      { name: '1-wanted' },
    ]);
  });

  it('findFirst, take and skip see only true matches', async () => {
    expect((await h.prisma.user.findFirst({ where: { ssn: a }, orderBy: { name: 'asc' } }))?.name).toBe('1-wanted');
    expect(
      (await h.prisma.user.findMany({ where: { AND: [{ ssn: a }] }, orderBy: { name: 'asc' }, take: 1 })).map(
        (u) => u.name,
      ),
    ).toEqual(['1-wanted']);
    expect(await h.prisma.user.findMany({ where: { ssn: a }, orderBy: { name: 'asc' }, skip: 1 })).toEqual([]);
    await expect(h.prisma.user.findFirstOrThrow({ where: { ssn: a, name: '0-collider' } })).rejects.toMatchObject({
      code: 'P2025',
    });
  });

  it('findUnique never returns a row that only collided', async () => {
    expect(await h.prisma.user.findUnique({ where: { id: ids['0-collider'], ssn: a } })).toBeNull();
    expect((await h.prisma.user.findUnique({ where: { id: ids['1-wanted'], ssn: a } }))?.ssn).toBe(a);
    await expect(h.prisma.user.findUniqueOrThrow({ where: { id: ids['0-collider'], ssn: a } })).rejects.toMatchObject({
      code: 'P2025',
    });
  });

  it('updateMany and deleteMany touch only true matches', async () => {
    expect((await h.prisma.user.updateMany({ where: { ssn: a }, data: { name: '1-wanted' } })).count).toBe(1);
    expect((await h.prisma.user.deleteMany({ where: { ssn: b, name: '1-wanted' } })).count).toBe(0);
    expect(await h.prisma.user.count({ where: { name: { in: ['0-collider', '1-wanted'] } } })).toBe(2);
  });

  it('works inside an interactive transaction and refuses in a batch transaction before any query', async () => {
    const found = await h.prisma.$transaction(async (tx) => tx.user.findMany({ where: { ssn: b } }));
    expect(found.map((u) => u.name)).toEqual(['0-collider']);
    const sent = h.queries.length;
    await expect(h.prisma.$transaction([h.prisma.user.findMany({ where: { ssn: a } })])).rejects.toBeInstanceOf(
      UnsupportedQueryError,
    );
    expect(h.queries.length).toBe(sent);
  });

  it("skips candidates of a shredded scope instead of failing another tenant's lookup", async () => {
    // A row of another tenant in a's bucket (same ssn), then that tenant is shredded.
    await h.prisma.user.create({
      data: { tenantId: 'shredded', name: '3-shredded', email: 'x@example.com', emailIdx: computedBlindIndex, ssn: a },
    });
    await h.prisma.$hushfield.crypto.keys.destroyScope('shredded');
    const found = await h.prisma.user.findMany({ where: { ssn: a }, orderBy: { name: 'asc' } });
    expect(found.map((u) => [u.name, u.ssn])).toEqual([['1-wanted', a]]);
    expect(await h.prisma.user.count({ where: { ssn: { in: [a, b] } } })).toBe(2);
    // From a fresh client too (the destroyed key is read from the store, not evicted here).
    const other = h.fresh().prisma;
    expect((await other.user.findFirst({ where: { ssn: a } }))?.name).toBe('1-wanted');
  });
});
