/**
 * An index root version published as pending (`publishIndexKey`, what `hushfield keys rotate
 * --index` does first) and promoted once every process has matched it (README, "Key rotation"
 * → "Blind-index keys"): a process that has not read the promotion yet still writes the old
 * version, but it knows the new one, so its unique check refuses a value another process just
 * wrote under the new version, and its lookups find rows moved to it. Before this, a process
 * that had not yet read a version rotated elsewhere (up to `cache.indexVersionsTtlMs`) stored
 * such a duplicate, unchecked.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { createHarness, expectNoPlaintextInLog, rejection, type Harness } from './support';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Every client's `cache.indexVersionsTtlMs` here: how long the admin leaves a version pending. */
const TTL = 3_000;

describe('an index root version published as pending, then promoted', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ cache: { ttlMs: 300_000, indexVersionsTtlMs: TTL } });
  });
  afterAll(async () => {
    await h.close();
  });

  const user = (email: string, name: string) => ({
    data: { tenantId: 'pend', name, email, emailIdx: computedBlindIndex },
  });
  const storedVersion = async (id: string) => {
    const [row] = await h.db.query<{ email_idx: string }>('SELECT email_idx FROM users WHERE id = $1', [id]);
    return h.prisma.$hushfield.crypto.blindIndexVersion(row.email_idx);
  };
  const expectDuplicate = (error: unknown) =>
    expect(error).toMatchObject({ name: 'PrismaClientKnownRequestError', code: 'P2002', meta: { modelName: 'User' } });

  it('is written by nobody while pending, and refuses a stale writer’s duplicate of a value written under it once promoted', async () => {
    const other = h.fresh(); // another process, its caches warm
    const app = other.prisma;
    const { prisma: admin, queries: adminQueries } = h.fresh();
    const ann = await app.user.create(user('ann@pend.test', 'ann'));
    const [v1] = await admin.$hushfield.crypto.keys.indexRootVersions();
    expect(await storedVersion(ann.id)).toBe(v1.version);

    const pending = await admin.$hushfield.crypto.keys.publishIndexKey();
    expect(pending).toMatchObject({ kind: 'index', version: v1.version + 1, state: 'pending' });
    // Published again (an interrupted `keys rotate --index` run again): the same version.
    expect((await admin.$hushfield.crypto.keys.publishIndexKey()).version).toBe(pending.version);
    // While pending, every process writes the active version, the one that knows the pending one
    // too: the database's constraint sees their duplicates, whoever has read what.
    const bob = await admin.user.create(user('bob@pend.test', 'bob'));
    expect(await storedVersion(bob.id)).toBe(v1.version);
    expectDuplicate(await rejection(app.user.create(user('bob@pend.test', 'dup'))));

    // Past every process's TTL the app has read the pending version (its next use reads it).
    await sleep(TTL + 200);
    expect(await app.user.findUnique({ where: { emailIdx: 'ann@pend.test' } })).not.toBeNull();
    expect(app.$hushfield.crypto.cachedIndexVersionCount()).toBe(2);

    const promoted = await admin.$hushfield.crypto.keys.promoteIndexKey();
    expect(promoted).toMatchObject({ version: pending.version, state: 'active' });
    const states = (await admin.$hushfield.crypto.keys.list({ kind: 'index' })).map((k) => `${k.version}:${k.state}`);
    expect(states).toEqual(expect.arrayContaining([`${v1.version}:retired`, `${pending.version}:active`]));

    // The admin writes the new version; the app has not read the promotion and writes the old
    // one, but checks the new one first: the duplicate is refused, nothing written.
    const cat = await admin.user.create(user('cat@pend.test', 'cat'));
    expect(await storedVersion(cat.id)).toBe(pending.version);
    const count = await h.base.user.count();
    expectDuplicate(await rejection(app.user.create(user(' CAT@pend.test', 'dup'))));
    expectDuplicate(await rejection(app.user.createMany({ data: [user('cat@pend.test', 'dup').data] })));
    expectDuplicate(await rejection(app.user.update({ where: { id: ann.id }, data: { email: 'cat@pend.test' } })));
    expect(await h.base.user.count()).toBe(count);
    // ... and the reverse: the app writes the old version, the admin's check finds it.
    const dee = await app.user.create(user('dee@pend.test', 'dee'));
    expect(await storedVersion(dee.id)).toBe(v1.version);
    expectDuplicate(await rejection(admin.user.create(user('dee@pend.test', 'dup'))));

    // A row moved to the new version (as reencrypt moves it) is found by the app's lists and
    // counts, which no miss re-read could have helped.
    await admin.user.update({ where: { id: ann.id }, data: { email: 'ann@pend.test' } });
    expect(await storedVersion(ann.id)).toBe(pending.version);
    const found = await app.user.findMany({ where: { email: { in: ['ann@pend.test', 'cat@pend.test'] } } });
    expect(found.map((row) => row.id).sort()).toEqual([ann.id, cat.id].sort());
    expect(await app.user.count({ where: { email: 'ann@pend.test' } })).toBe(1);
    expectNoPlaintextInLog([...other.queries, ...adminQueries], ['cat@pend.test', 'ann@pend.test', 'dee@pend.test']);
  });

  it('refuses to promote when nothing is pending, and to rotate over a pending version', async () => {
    const admin = h.fresh().prisma;
    await expect(admin.$hushfield.crypto.keys.promoteIndexKey()).rejects.toMatchObject({
      code: 'HUSHFIELD_KEY_NOT_FOUND',
    });
    const pending = await admin.$hushfield.crypto.keys.publishIndexKey();
    await expect(admin.$hushfield.crypto.keys.rotateIndexKey()).rejects.toMatchObject({
      code: 'HUSHFIELD_KEY_CONFLICT',
    });
    const promoted = await admin.$hushfield.crypto.keys.promoteIndexKey();
    expect(promoted.version).toBe(pending.version);
    await expect(admin.$hushfield.crypto.keys.promoteIndexKey()).rejects.toMatchObject({
      code: 'HUSHFIELD_KEY_NOT_FOUND',
    });
  });
});
