import { DecryptionError } from '@hushfield/core';
import { decryptThread } from '../../packages/core/src/thread-host';
import type { OpenResult } from '../../packages/core/src/thread-open';
import { createHarness, createUsers, type Harness, readUsers, rejection } from './support';

/**
 * Large reads shared with the decrypt thread (`parallelDecrypt`): through the extension, a read
 * split between two threads returns what one thread returns, and a damaged value in the
 * thread's half fails as it fails without the thread. `minValues: 2` splits every read here.
 */
describe('fieldEncryption: large reads on two threads', () => {
  let h: Harness;
  const tenantId = 'large-reads';
  const rows = 24;

  beforeAll(async () => {
    h = await createHarness({ parallelDecrypt: { minValues: 2 } });
    await createUsers(h.prisma, tenantId, rows, 'large.example');
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => jest.restoreAllMocks());

  const read = (prisma: Harness['prisma']) => readUsers(prisma, tenantId);

  it('returns what a read on one thread returns, the second half opened by the thread', async () => {
    const split = h.fresh({ parallelDecrypt: { minValues: 2 } }).prisma;
    expect(await split.$hushfield.crypto.startDecryptThread()).toBe(true);
    const run = jest.spyOn(decryptThread, 'run');
    const shared = await read(split);
    // The thread took the second half of the values (3 per row) and opened every one of them.
    const taken = run.mock.results.find((result) => result.value instanceof Promise);
    const { plain } = (await taken!.value) as OpenResult;
    expect(plain).toHaveLength((rows * 3) / 2);
    expect(plain.every((text) => typeof text === 'string')).toBe(true);
    const alone = await read(h.fresh({ parallelDecrypt: false }).prisma);
    expect(shared).toEqual(alone);
    expect(shared).toHaveLength(rows);
    for (const user of shared) {
      const r = user.name.slice('user '.length);
      expect(user).toMatchObject({ email: `user${r}@large.example`, notes: `notes of ${r}` });
    }
  });

  it("fails a value copied between rows in the thread's half as it fails without the thread", async () => {
    const users = await read(h.prisma);
    // The last rows in the read's order are the thread's: copy one row's email over another's.
    const [from, to] = [users[rows - 1], users[rows - 2]];
    const [stored] = await h.db.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [from.id]);
    await h.db.query('UPDATE users SET email = $1 WHERE id = $2', [stored.email, to.id]);
    const failure = (prisma: Harness['prisma']) => rejection(read(prisma));
    const split = h.fresh({ parallelDecrypt: { minValues: 2 } }).prisma;
    expect(await split.$hushfield.crypto.startDecryptThread()).toBe(true);
    const run = jest.spyOn(decryptThread, 'run');
    const shared = await failure(split);
    // The thread had the copied value and left it (and only it) for the query's thread.
    const { plain } = (await run.mock.results.find((result) => result.value instanceof Promise)!.value) as OpenResult;
    expect(plain.filter((text) => text === null)).toHaveLength(1);
    const alone = await failure(h.fresh({ parallelDecrypt: false }).prisma);
    expect(shared).toBeInstanceOf(DecryptionError);
    expect((shared as Error).message).toBe((alone as Error).message);
    expect((shared as Error).message).toContain(to.id);
    // Under onDecryptError: 'null' the copied value reads as null and every other value opens.
    const nulls = await read(h.fresh({ parallelDecrypt: { minValues: 2 }, onDecryptError: 'null' }).prisma);
    expect(nulls.find((user) => user.id === to.id)?.email).toBeNull();
    expect(nulls.filter((user) => user.email === null)).toHaveLength(1);
  });
});
