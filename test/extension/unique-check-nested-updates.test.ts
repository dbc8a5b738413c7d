/**
 * The check that refuses a duplicate of a unique blind-indexed value held under another live
 * key version (README, "Key rotation"), in the shapes beyond unique-check-shapes.test.ts: a
 * nested `createMany({ skipDuplicates })`. With one live version, it queries nothing for it.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { testProvider } from '../support/provider';
import { createHarness, expectNoPlaintextInLog, rejection, type Harness } from './support';

describe('unique blind-index values across live versions, in nested updates and compound updates', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const user = (email: string, name: string) => ({ tenantId: 'nest', name, email, emailIdx: computedBlindIndex });
  const account = (provider: string, externalId: string) => ({
    provider,
    externalId,
    externalIdIdx: computedBlindIndex,
  });
  const expectDuplicate = (error: unknown, modelName: string, target: string[]) => {
    expect(error).toMatchObject({ name: 'PrismaClientKnownRequestError', code: 'P2002', meta: { modelName, target } });
    expect(String((error as Error).message)).not.toMatch(/@nest\.test|P-\d|ext-\d/i);
  };
  /** The index columns the check filters on with every live version's value (`IN`). */
  const checkQueries = (mark: number, column: string) =>
    h.queries.slice(mark).filter((q) => new RegExp(`${column}\\W*\\s+IN\\s*\\(`, 'i').test(q.query));

  (testProvider() === 'sqlite' ? it.skip : it)(
    'drops from a nested createMany with skipDuplicates a row whose value another row holds under another live version',
    async () => {
      const { prisma } = h;
      const owner = await prisma.user.create({ data: user('own@nest.test', 'own') });
      const other = await prisma.user.create({ data: user('oth@nest.test', 'oth') });
      await prisma.account.create({ data: { ...account('github', 'ext-4242'), userId: owner.id } });
      const createMany = (values: string[]) =>
        prisma.user.update({
          where: { id: other.id },
          data: {
            accounts: {
              createMany: { data: values.map((value) => account('github', value)), skipDuplicates: true },
            },
          },
        });
      const mark = h.queries.length;
      await createMany(['ext-1000']);
      expect(checkQueries(mark, 'external_id_idx')).toEqual([]);

      await prisma.$hushfield.crypto.keys.rotateIndexKey();
      await createMany(['ext-4242', 'ext-5151']);
      expect(await prisma.account.count({ where: { provider: 'github', externalId: 'ext-4242' } })).toBe(1);
      expect(await prisma.account.count({ where: { userId: other.id } })).toBe(2);
      // Every row held: none is sent.
      await createMany(['ext-4242']);
      expect(await h.base.account.count()).toBe(3);
      // A nested create beside it is still refused.
      expectDuplicate(
        await rejection(
          prisma.user.update({
            where: { id: other.id },
            data: {
              accounts: {
                create: account('github', 'ext-4242'),
                createMany: { data: [account('gitlab', 'ext-6161')], skipDuplicates: true },
              },
            },
          }),
        ),
        'Account',
        ['provider', 'external_id_idx'],
      );
      expect(await h.base.account.count()).toBe(3);
      expectNoPlaintextInLog(h.queries, ['ext-4242', 'ext-5151']);
    },
  );
});
