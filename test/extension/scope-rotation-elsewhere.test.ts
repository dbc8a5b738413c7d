/**
 * A scope key rotated by another process (`hushfield keys rotate --scope`, then `reencrypt`
 * moving the rows' per-scope blind indexes to the new version) while this client's caches are
 * warm (README, "Key rotation"): per-scope indexes get what shared ones get after `keys rotate
 * --index` (index-rotation-elsewhere.test.ts). A lookup that found nothing reads the scope's live
 * versions again (at most once a second per scope) and runs once more when a new one appeared,
 * and the scope's live versions are read again after `cache.indexVersionsTtlMs`, so lists follow.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { createHarness, type Harness } from './support';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Past the one-second floor between two reads of a scope's versions after a miss. */
const PAST_REFRESH_FLOOR = 1_100;

describe('per-scope index versions added by another process', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ cache: { ttlMs: 300_000 } });
  });
  afterAll(async () => {
    await h.close();
  });

  const keyQueries = () => h.queries.filter((q) => q.query.includes('hushfield_keys')).length;
  const storedVersion = async (id: string) => {
    const [row] = await h.db.query<{ email_idx: string }>('SELECT email_idx FROM contacts WHERE id = $1', [id]);
    return h.prisma.$hushfield.crypto.blindIndexVersion(row.email_idx);
  };
  const contact = (orgId: string, email: string) => ({ data: { orgId, email, emailIdx: computedBlindIndex } });
  const byEmail = (orgId: string, email: string) => ({ where: { orgId_emailIdx: { orgId, emailIdx: email } } });

  it('finds by a unique lookup a row indexed under a scope key version this client has not read, and no hit or stream of misses queries the key store each', async () => {
    const app = h.prisma;
    const org = (await app.organization.create({ data: { slug: 'rot-scope-a' } })).id;
    const ann = await app.contact.create(contact(org, 'ann@scope.test'));
    expect((await app.contact.findUnique(byEmail(org, 'ann@scope.test')))?.id).toBe(ann.id);
    // Another process rotates the organization's key and moves ann's index value (as reencrypt does).
    const admin = h.fresh().prisma;
    await admin.$hushfield.crypto.keys.rotateScope(org);
    await admin.contact.update({ where: { id: ann.id }, data: { email: 'ann@scope.test' } });
    const zed = await admin.contact.create(contact(org, 'zed@scope.test'));
    expect(await storedVersion(ann.id)).toBe(2);
    expect(await storedVersion(zed.id)).toBe(2);
    await sleep(PAST_REFRESH_FLOOR);

    const before = keyQueries();
    expect((await app.contact.findUnique(byEmail(org, 'ann@scope.test')))?.id).toBe(ann.id);
    expect(keyQueries() - before).toBeLessThanOrEqual(2); // the versions read again (and the new key unwrapped)
    expect((await app.contact.findFirst({ where: { orgId: org, email: 'ZED@scope.test' } }))?.id).toBe(zed.id);
    expect((await app.contact.findUniqueOrThrow(byEmail(org, 'zed@scope.test'))).id).toBe(zed.id);
    expect((await app.contact.update({ ...byEmail(org, 'zed@scope.test'), data: { phone: '555-0199' } })).phone).toBe(
      '555-0199',
    );

    // Warm hits cost no key-store query; a stream of genuine misses at most one a second.
    const warm = keyQueries();
    for (let i = 0; i < 10; i++) {
      expect(await app.contact.findUnique(byEmail(org, 'ann@scope.test'))).not.toBeNull();
    }
    expect(keyQueries()).toBe(warm);
    await sleep(PAST_REFRESH_FLOOR);
    const streamStart = performance.now();
    for (let i = 0; i < 30; i++) {
      expect(await app.contact.findUnique(byEmail(org, `nobody${i}@scope.test`))).toBeNull();
    }
    // One re-read for the first miss, and one more per second the stream lasted at most (30
    // misses take well under a second on an idle machine, several on a loaded one).
    const stream = performance.now() - streamStart;
    expect(keyQueries() - warm).toBeGreaterThanOrEqual(1);
    expect(keyQueries() - warm).toBeLessThanOrEqual(1 + Math.floor(stream / 1_000));
  });

  it('a miss in one scope does not hold back the re-read of another', async () => {
    const app = h.fresh().prisma;
    const [a, b] = [
      (await app.organization.create({ data: { slug: 'rot-scope-b1' } })).id,
      (await app.organization.create({ data: { slug: 'rot-scope-b2' } })).id,
    ];
    const inA = await app.contact.create(contact(a, 'amy@scope.test'));
    const inB = await app.contact.create(contact(b, 'bob@scope.test'));
    expect(await app.contact.findUnique(byEmail(a, 'amy@scope.test'))).not.toBeNull();
    expect(await app.contact.findUnique(byEmail(b, 'bob@scope.test'))).not.toBeNull();
    const admin = h.fresh().prisma;
    for (const [org, row, email] of [
      [a, inA.id, 'amy@scope.test'],
      [b, inB.id, 'bob@scope.test'],
    ]) {
      await admin.$hushfield.crypto.keys.rotateScope(org);
      await admin.contact.update({ where: { id: row }, data: { email } });
    }
    await sleep(PAST_REFRESH_FLOOR);
    expect((await app.contact.findUnique(byEmail(a, 'amy@scope.test')))?.id).toBe(inA.id);
    expect((await app.contact.delete(byEmail(b, 'bob@scope.test'))).id).toBe(inB.id);
  });

  it('checks a per-scope unique write against a version another process added once indexVersionsTtlMs has passed, though its active key is still cached', async () => {
    // A process that only writes the scope: its active version 1 is cached for cache.ttlMs, and
    // it never looked the scope's live versions up.
    const app = h.fresh({ cache: { ttlMs: 300_000, indexVersionsTtlMs: 1_000 } }).prisma;
    const org = (await app.organization.create({ data: { slug: 'rot-scope-d' } })).id;
    await app.contact.create(contact(org, 'amy@scope.test'));
    const admin = h.fresh().prisma;
    await admin.$hushfield.crypto.keys.rotateScope(org);
    const bob = await admin.contact.create(contact(org, 'bob@scope.test'));
    expect(await storedVersion(bob.id)).toBe(2);
    await sleep(1_100);
    const count = await h.base.contact.count({ where: { orgId: org } });
    const error = await app.contact.create(contact(org, 'BOB@scope.test')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'P2002', meta: { modelName: 'Contact' } });
    expect(await h.base.contact.count({ where: { orgId: org } })).toBe(count);
  });

  it('a scope key version published as pending is written by nobody, and once promoted a process still writing the old one refuses a duplicate of a value written under it', async () => {
    const TTL = 2_000;
    const app = h.fresh({ cache: { ttlMs: 300_000, indexVersionsTtlMs: TTL } }).prisma;
    const org = (await app.organization.create({ data: { slug: 'rot-scope-e' } })).id;
    await app.contact.create(contact(org, 'amy@scope.test'));
    const admin = h.fresh().prisma;
    expect(await admin.$hushfield.crypto.keys.publishScope(org)).toMatchObject({ version: 2, state: 'pending' });
    const bob = await admin.contact.create(contact(org, 'bob@scope.test'));
    expect(await storedVersion(bob.id)).toBe(1); // pending: the active version is written
    const duplicate = (error: unknown) =>
      expect(error).toMatchObject({ code: 'P2002', meta: { modelName: 'Contact' } });
    duplicate(await app.contact.create(contact(org, 'bob@scope.test')).catch((e: unknown) => e));

    await sleep(TTL + 100); // every process has read the pending version by its next write
    const cid = await app.contact.create(contact(org, 'cid@scope.test'));
    expect(app.$hushfield.crypto.cachedScopeIndexVersionCount(org)).toBe(2);
    expect((await admin.$hushfield.crypto.keys.promoteScope(org)).state).toBe('active');
    const dee = await admin.contact.create(contact(org, 'dee@scope.test'));
    expect(await storedVersion(dee.id)).toBe(2);
    // The app's active version 1 is cached for cache.ttlMs: it writes it, checking version 2.
    duplicate(await app.contact.create(contact(org, ' DEE@scope.test')).catch((e: unknown) => e));
    const eve = await app.contact.create(contact(org, 'eve@scope.test'));
    expect(await storedVersion(eve.id)).toBe(1);
    duplicate(await admin.contact.create(contact(org, 'eve@scope.test')).catch((e: unknown) => e));
    expect(await storedVersion(cid.id)).toBe(1);
  });

  it('lists under a scope key version another process added once indexVersionsTtlMs has passed', async () => {
    const app = h.fresh({ cache: { ttlMs: 300_000, indexVersionsTtlMs: 1_000 } }).prisma;
    const org = (await app.organization.create({ data: { slug: 'rot-scope-c' } })).id;
    const bea = await app.contact.create(contact(org, 'bea@scope.test'));
    expect(await app.contact.count({ where: { orgId: org, email: 'bea@scope.test' } })).toBe(1);
    const admin = h.fresh().prisma;
    await admin.$hushfield.crypto.keys.rotateScope(org);
    await admin.contact.update({ where: { id: bea.id }, data: { email: 'bea@scope.test' } });
    expect(await storedVersion(bea.id)).toBe(2);
    await sleep(1_100);
    const found = await app.contact.findMany({ where: { orgId: org, email: { in: ['bea@scope.test'] } } });
    expect(found.map((row) => row.id)).toEqual([bea.id]);
    expect(await app.contact.count({ where: { orgId: org, email: 'bea@scope.test' } })).toBe(1);
  });
});
