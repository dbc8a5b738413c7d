/**
 * Issue 12 item 2: full-length blind-index hits are re-checked against the decrypted value. An
 * attacker with SQL write access who swaps two rows' index values must not make a lookup by
 * one value return the other row.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { createHarness, type Harness } from './support';

describe('fieldEncryption: full-length blind-index values swapped in SQL', () => {
  let h: Harness;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    h = await createHarness();
    for (const name of ['ann', 'bob']) {
      ids[name] = (
        await h.prisma.user.create({
          data: {
            tenantId: 'acme',
            name,
            email: `${name}@example.com`,
            emailIdx: computedBlindIndex,
            notes: `${name}'s notes`,
          },
        })
      ).id;
    }
    // Swap the two rows' email index values (through a placeholder: the column is unique).
    const indexOf = async (id: string) =>
      (await h.db.query<{ email_idx: string }>('SELECT email_idx FROM users WHERE id = $1', [id]))[0].email_idx;
    const [annIdx, bobIdx] = [await indexOf(ids.ann), await indexOf(ids.bob)];
    const setIndex = (id: string, value: string) =>
      h.db.query('UPDATE users SET email_idx = $1 WHERE id = $2', [value, id]);
    await setIndex(ids.ann, `tmp-${bobIdx}`);
    await setIndex(ids.bob, annIdx);
    await setIndex(ids.ann, bobIdx);
  });
  afterAll(async () => {
    await h.close();
  });

  it("the two rows really hold each other's index values", async () => {
    const raw = await h.base.user.findMany({ where: { id: { in: [ids.ann, ids.bob] } }, select: { emailIdx: true } });
    expect(new Set(raw.map((r) => r.emailIdx)).size).toBe(2);
    expect(await h.base.user.findUnique({ where: { id: ids.ann } })).not.toBeNull();
  });

  it('findUnique by the index and findFirst / findMany by the field never return the other row', async () => {
    expect(await h.prisma.user.findUnique({ where: { emailIdx: 'ann@example.com' } })).toBeNull();
    expect(await h.prisma.user.findFirst({ where: { email: 'bob@example.com' } })).toBeNull();
    expect(await h.prisma.user.findMany({ where: { email: { in: ['ann@example.com', 'zed@example.com'] } } })).toEqual(
      [],
    );
    // Both values asked for: each row is a true match for one of them.
    expect(
      (
        await h.prisma.user.findMany({
          where: { email: { in: ['ann@example.com', 'bob@example.com'] } },
          orderBy: { name: 'asc' },
        })
      ).map((u) => [u.name, u.email]),
    ).toEqual([
      ['ann', 'ann@example.com'],
      ['bob', 'bob@example.com'],
    ]);
    expect(await h.prisma.user.findFirst({ where: { email: 'ANN@example.com ' }, select: { name: true } })).toBeNull();
    expect(
      await h.prisma.user.findMany({
        where: { AND: [{ email: 'ann@example.com' }], tenantId: 'acme' },
        select: { id: true },
      }),
    ).toEqual([]);
  });

  it('findUniqueOrThrow and findFirstOrThrow throw not-found instead of returning the other row', async () => {
    await expect(h.prisma.user.findUniqueOrThrow({ where: { emailIdx: 'bob@example.com' } })).rejects.toMatchObject({
      code: 'P2025',
    });
    await expect(h.prisma.user.findFirstOrThrow({ where: { email: 'ann@example.com' } })).rejects.toMatchObject({
      code: 'P2025',
    });
  });

  it('still finds rows whose index was not touched, with only the selected fields', async () => {
    const carl = await h.prisma.user.create({
      data: { tenantId: 'acme', name: 'carl', email: 'carl@example.com', emailIdx: computedBlindIndex },
    });
    expect(await h.prisma.user.findUnique({ where: { emailIdx: 'Carl@example.com' }, select: { name: true } })).toEqual(
      { name: 'carl' },
    );
    expect((await h.prisma.user.findFirstOrThrow({ where: { email: 'carl@example.com' } })).id).toBe(carl.id);
    expect((await h.prisma.user.findMany({ where: { email: 'carl@example.com' } })).map((u) => u.id)).toEqual([
      carl.id,
    ]);
  });
});
