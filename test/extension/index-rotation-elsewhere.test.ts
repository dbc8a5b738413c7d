/**
 * A blind-index key rotated by another process (`hushfield keys rotate --index`, then
 * `reencrypt` moving rows to the new version) while this client's caches are warm (README,
 * "Key rotation" → "Blind-index keys"): a lookup that found nothing reads the live versions
 * again (at most once a second) and runs once more when a new one appeared, and the list of
 * live versions is read again after `cache.indexVersionsTtlMs` whatever the key cache's TTL,
 * so lists and writes follow too.
 */
import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import { createPrisma } from '../support/database';
import { createHarness, hushfieldSchema, type Harness } from './support';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Past the one-second floor between two reads of the versions after a miss. */
const PAST_REFRESH_FLOOR = 1_100;

describe('blind-index versions added by another process', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ cache: { ttlMs: 300_000 } });
  });
  afterAll(async () => {
    await h.close();
  });

  const user = (email: string, name: string) => ({
    data: { tenantId: 'rot', name, email, emailIdx: computedBlindIndex },
  });
  const keyQueries = () => h.queries.filter((q) => q.query.includes('hushfield_keys')).length;
  const storedVersion = async (id: string) => {
    const [row] = await h.db.query<{ email_idx: string }>('SELECT email_idx FROM users WHERE id = $1', [id]);
    return h.prisma.$hushfield.crypto.blindIndexVersion(row.email_idx);
  };

  it('finds by a unique lookup a row indexed under a version this client has not read, and no hit or stream of misses queries the key store each', async () => {
    const app = h.prisma;
    const ann = await app.user.create(user('ann@rot.test', 'ann'));
    expect((await app.user.findUnique({ where: { emailIdx: 'ann@rot.test' } }))?.id).toBe(ann.id);
    // Another process rotates the index key and moves ann's index value (as reencrypt does).
    const admin = h.fresh().prisma;
    await admin.$hushfield.crypto.keys.rotateIndexKey();
    await admin.user.update({ where: { id: ann.id }, data: { email: 'ann@rot.test' } });
    const zed = await admin.user.create(user('zed@rot.test', 'zed'));
    expect(await storedVersion(ann.id)).toBe(2);
    await sleep(PAST_REFRESH_FLOOR);

    const before = keyQueries();
    expect((await app.user.findUnique({ where: { emailIdx: 'ann@rot.test' } }))?.id).toBe(ann.id);
    expect(keyQueries() - before).toBe(1); // the versions read again, once
    expect((await app.user.findFirst({ where: { email: 'zed@rot.test' } }))?.id).toBe(zed.id);
    expect((await app.user.findUniqueOrThrow({ where: { emailIdx: 'ZED@rot.test' } })).id).toBe(zed.id);
    expect((await app.user.update({ where: { emailIdx: 'zed@rot.test' }, data: { notes: 'seen' } })).notes).toBe(
      'seen',
    );
    // It writes under the new version now.
    const amy = await app.user.create(user('amy@rot.test', 'amy'));
    expect(await storedVersion(amy.id)).toBe(2);

    // Warm hits cost no key-store query; a stream of genuine misses at most one a second.
    const warm = keyQueries();
    for (let i = 0; i < 10; i++) {
      expect(await app.user.findUnique({ where: { emailIdx: 'ann@rot.test' } })).not.toBeNull();
      expect(await app.user.findMany({ where: { email: { in: ['ann@rot.test', 'zed@rot.test'] } } })).toHaveLength(2);
    }
    expect(keyQueries()).toBe(warm);
    await sleep(PAST_REFRESH_FLOOR);
    const streamStart = performance.now();
    for (let i = 0; i < 30; i++) {
      expect(await app.user.findUnique({ where: { emailIdx: `nobody${i}@rot.test` } })).toBeNull();
    }
    // One re-read for the first miss, and one more per second the stream lasted at most (30
    // misses take well under a second on an idle machine, several on a loaded one).
    const stream = performance.now() - streamStart;
    expect(keyQueries() - warm).toBeGreaterThanOrEqual(1);
    expect(keyQueries() - warm).toBeLessThanOrEqual(1 + Math.floor(stream / 1_000));
  });

  it('lists and writes under a version another process added once indexVersionsTtlMs has passed', async () => {
    const app = h.fresh({ cache: { ttlMs: 300_000, indexVersionsTtlMs: 1_000 } }).prisma;
    const bea = await app.user.create(user('bea@rot.test', 'bea'));
    const admin = h.fresh().prisma;
    const [current] = await admin.$hushfield.crypto.keys.indexRootVersions();
    await admin.$hushfield.crypto.keys.rotateIndexKey();
    await admin.user.update({ where: { id: bea.id }, data: { email: 'bea@rot.test' } });
    expect(await storedVersion(bea.id)).toBe(current.version + 1);
    await sleep(1_100);
    const found = await app.user.findMany({ where: { email: { in: ['bea@rot.test'] } } });
    expect(found.map((row) => row.id)).toEqual([bea.id]);
    expect(await app.user.count({ where: { email: 'bea@rot.test' } })).toBe(1);
    const cal = await app.user.create(user('cal@rot.test', 'cal'));
    expect(await storedVersion(cal.id)).toBe(current.version + 1);
  });

  it('runs again a lookup that missed while in flight when another read of the versions named a new one meanwhile', async () => {
    // A findUnique held between the extension and the database: it hashed under the versions
    // known before another lookup's miss read them again.
    const { prisma: base } = createPrisma(h.db);
    let hold: Promise<void> | undefined;
    let held!: () => void;
    // The other lookup starts only once this one is held: under load it could otherwise reach
    // the hold first, and wait for a release that comes after it.
    const holding = new Promise<void>((resolve) => (held = resolve));
    const app = base
      .$extends(
        fieldEncryption({
          schema: hushfieldSchema,
          keyring: h.keyring,
          cache: { ttlMs: 300_000 },
          unsafeQueryExtensionsAfter: true,
        }),
      )
      .$extends({
        query: {
          user: {
            async findUnique({ args, query }) {
              const wait = hold;
              hold = undefined;
              if (wait !== undefined) {
                held();
                await wait;
              }
              return query(args);
            },
          },
        },
      });
    try {
      const dee = await app.user.create(user('dee@rot.test', 'dee'));
      const admin = h.fresh().prisma;
      await admin.$hushfield.crypto.keys.rotateIndexKey();
      await admin.user.update({ where: { id: dee.id }, data: { email: 'dee@rot.test' } });
      await sleep(PAST_REFRESH_FLOOR);
      let release!: () => void;
      hold = new Promise((resolve) => (release = resolve));
      const inFlight = app.user.findUnique({ where: { emailIdx: 'dee@rot.test' } }).then((row) => row);
      await holding;
      expect(await app.user.findUnique({ where: { emailIdx: 'nobody@rot.test' } })).toBeNull();
      release();
      expect((await inFlight)?.id).toBe(dee.id);
    } finally {
      await base.$disconnect();
    }
  });
});
