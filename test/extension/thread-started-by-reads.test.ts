import { decryptThread } from '../../packages/core/src/thread-host';
import { createHarness, createUsers, type Harness, readUsers } from './support';

/**
 * The decrypt thread started by large reads alone: a later large read is shared with it once it
 * is up, although nothing but reads ran in between. On SQLite (better-sqlite3 answers
 * synchronously) such reads settle without the event loop turning, and the thread's 'ready',
 * a message, used to stay unread: every read then ran on one thread.
 */
describe('fieldEncryption: the decrypt thread started by reads alone', () => {
  let h: Harness;
  const tenantId = 'started-by-reads';
  const rows = 24;

  beforeAll(async () => {
    h = await createHarness({ parallelDecrypt: { minValues: 2 } });
    await createUsers(h.prisma, tenantId, rows, 'started.example');
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => jest.restoreAllMocks());

  const read = (prisma: Harness['prisma']) => readUsers(prisma, tenantId);

  it('shares a later read with the thread an earlier one started, with nothing else run in between', async () => {
    const alone = await read(h.fresh({ parallelDecrypt: false }).prisma);
    expect(alone).toHaveLength(rows);
    const prisma = h.fresh({ parallelDecrypt: { minValues: 2 } }).prisma;
    const run = jest.spyOn(decryptThread, 'run');
    // The first read starts the thread; reads follow one another until one is taken by it.
    const until = performance.now() + 30_000;
    let reads = 0;
    while (performance.now() < until && !run.mock.results.some((result) => result.value instanceof Promise)) {
      expect(await read(prisma)).toEqual(alone);
      reads++;
    }
    expect(run.mock.results.some((result) => result.value instanceof Promise)).toBe(true);
    expect(reads).toBeGreaterThan(1);
  }, 60_000);
});
