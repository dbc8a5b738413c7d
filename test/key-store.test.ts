/**
 * `PrismaKeyStore` on the real database (PostgreSQL, or PGlite without TEST_DATABASE_URL):
 * the whole `KeyStore` contract, checked against what the `hushfield_keys` table really holds,
 * and races between several Prisma clients on one database.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { ConfigError, InvalidArgumentError, KeyConflictError, KeyStoreError } from '@hushfield/core';
import { PrismaKeyStore } from '@hushfield/prisma';
import Database from 'better-sqlite3';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../prisma/generated/client/client';
import {
  createPrisma,
  createTestDatabase,
  nonStrictMysqlAdapter,
  testBackend,
  type TestDatabase,
} from './support/database';
import { newScopeKey } from './support/stored-keys';

interface Row {
  key_id: string;
  kind: string;
  scope: string;
  version: number;
  state: string;
  wrapped_key: string | null;
  keyring_id: string;
}

let db: TestDatabase;
let prisma: ReturnType<typeof createPrisma>['prisma'];
let store: PrismaKeyStore;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db).prisma;
  store = new PrismaKeyStore(prisma);
});

afterAll(async () => {
  await prisma.$disconnect();
  await db.close();
});

let counter = 0;
/** A fresh scope per test, so tests share the database without seeing each other. */
const freshScope = (): string => `scope-${++counter}-${randomBytes(3).toString('hex')}`;

const rows = (scope: string): Promise<Row[]> =>
  db.query<Row>(
    'SELECT key_id, kind, scope, version, state, wrapped_key, keyring_id FROM hushfield_keys WHERE scope = $1 ORDER BY kind, version',
    [scope],
  );

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('PrismaKeyStore', () => {
  it('inserts an active key and stores exactly what it was given', async () => {
    const scope = freshScope();
    const key = newScopeKey(scope);
    const stored = await store.insert(key);
    expect(stored).toMatchObject({ ...key, state: 'active' });
    expect(stored.createdAt).toBeInstanceOf(Date);
    expect(stored.updatedAt).toBeInstanceOf(Date);
    expect(await rows(scope)).toEqual([
      {
        key_id: key.keyId,
        kind: 'scope',
        scope,
        version: 1,
        state: 'active',
        wrapped_key: key.wrappedKey,
        keyring_id: 'local:test',
      },
    ]);
  });

  it('finds the active key and versions by key id', async () => {
    const scope = freshScope();
    expect(await store.getActive('scope', scope)).toBeNull();
    const stored = await store.insert(newScopeKey(scope));
    expect(await store.getActive('scope', scope)).toEqual(stored);
    expect(await store.getActive('index', scope)).toBeNull();
    expect(await store.getVersion(stored.keyId, 1)).toEqual(stored);
    expect(await store.getVersion(stored.keyId, 2)).toBeNull();
    expect(await store.getVersion('no-such-key', 1)).toBeNull();
    expect(await store.getVersion(stored.keyId, 1.5)).toBeNull();
  });

  it('finds several versions by key id at once, across queries of 100, leaving out those it does not hold', async () => {
    const scopes = Array.from({ length: 120 }, () => freshScope());
    const stored = [];
    for (const scope of scopes) stored.push(await store.insert(newScopeKey(scope)));
    stored.push(await store.rotate(newScopeKey(scopes[0], 2)));
    const refs = [
      ...stored.map(({ keyId, version }) => ({ keyId, version })),
      { keyId: stored[1].keyId, version: 2 },
      { keyId: 'no-such-key', version: 1 },
      { keyId: stored[2].keyId, version: 1.5 },
      { keyId: stored[3].keyId, version: 0 },
    ];
    const found = await store.getVersions(refs);
    const byVersion = (key: { keyId: string; version: number }) => `${key.keyId}/${key.version}`;
    expect(found.map(byVersion).sort()).toEqual(stored.map(byVersion).sort());
    // As stored, the first scope's version 1 retired by the rotation.
    const first = found.find((key) => key.keyId === stored[0].keyId && key.version === 1);
    expect(first).toEqual(await store.getVersion(stored[0].keyId, 1));
    expect(first?.state).toBe('retired');
    expect(await store.getVersions([])).toEqual([]);
  });

  it('finds the active versions of several scopes at once, across queries of 100, leaving out scopes without one', async () => {
    const scopes = Array.from({ length: 110 }, () => freshScope());
    for (const scope of scopes) await store.insert(newScopeKey(scope));
    const rotated = await store.rotate(newScopeKey(scopes[0], 2));
    await store.destroy('scope', scopes[1]);
    const asked = [...scopes, scopes[2], freshScope()];
    const found = await store.getActives('scope', asked);
    expect(found.map((key) => key.scope).sort()).toEqual(scopes.filter((scope) => scope !== scopes[1]).sort());
    expect(found.every((key) => key.state === 'active' && key.kind === 'scope')).toBe(true);
    expect(found.find((key) => key.scope === scopes[0])).toEqual(rotated);
    expect(await store.getActives('index', scopes)).toEqual([]);
    expect(await store.getActives('scope', [])).toEqual([]);
  });

  it('rejects a second copy of a version, of a key id version, or a second active key', async () => {
    const scope = freshScope();
    const first = newScopeKey(scope);
    await store.insert(first);
    const sameVersion = await rejection(store.insert(newScopeKey(scope, 1, { keyId: 'other-id' })));
    expect(sameVersion).toBeInstanceOf(KeyConflictError);
    expect((sameVersion as KeyConflictError).code).toBe('HUSHFIELD_KEY_CONFLICT');
    const other = freshScope();
    expect(await rejection(store.insert(newScopeKey(other, 1, { keyId: first.keyId })))).toBeInstanceOf(
      KeyConflictError,
    );
    expect(await rejection(store.insert(newScopeKey(scope, 2)))).toBeInstanceOf(KeyConflictError);
    expect(await rows(scope)).toHaveLength(1);
    expect(await rows(other)).toEqual([]);
  });

  it('refuses a scope its column cannot hold with a typed error, storing nothing (MySQL: VARCHAR(191))', async () => {
    const scope = `${freshScope()}-${'x'.repeat(300)}`;
    const key = newScopeKey(scope, 1, { keyId: `k-long-${counter}` });
    if (db.provider !== 'mysql') {
      await store.insert(key);
      expect((await rows(scope)).map((row) => row.scope)).toEqual([scope]);
      return;
    }
    const error = await rejection(store.insert(key));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ code: 'HUSHFIELD_INVALID_ARGUMENT', argument: 'key.scope' });
    expect((error as Error).message).toContain('column');
    expect((error as Error).message).not.toContain('x'.repeat(50));
    expect(inspect(error)).not.toContain(key.wrappedKey);
    expect(await db.query('SELECT key_id FROM hushfield_keys WHERE key_id = $1', [key.keyId])).toEqual([]);
  });

  it('refuses a scope its column would cut, in a MySQL session without a strict sql_mode, storing nothing', async () => {
    if (db.provider !== 'mysql') return;
    // Without STRICT_TRANS_TABLES MySQL and MariaDB store the first 191 characters. The row left
    // would hold the key of another scope, that of the scope the cut text names: a tenant with
    // that id could never write (its key would not unwrap), and a shred of it would destroy both.
    const prefix = `${freshScope()}-`.padEnd(191, 'y');
    const key = newScopeKey(`${prefix}-and-more`, 1, { keyId: `k-cut-${counter}` });
    const lax = new PrismaClient({ adapter: nonStrictMysqlAdapter(db) });
    try {
      const error = await rejection(new PrismaKeyStore(lax).insert(key));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ code: 'HUSHFIELD_INVALID_ARGUMENT', argument: 'key.scope' });
      expect((error as Error).message).not.toContain(prefix);
      expect(await db.query('SELECT key_id FROM hushfield_keys WHERE key_id = $1', [key.keyId])).toEqual([]);
      expect(await rows(prefix)).toEqual([]);
      // the rotation of a scope that fits to a version whose key id the column would cut
      const scope = freshScope();
      await store.insert(newScopeKey(scope));
      const next = newScopeKey(scope, 2, { keyId: `k-${scope}-`.padEnd(200, 'z') });
      expect(await rejection(new PrismaKeyStore(lax).rotate(next))).toMatchObject({ argument: 'key.keyId' });
      expect((await rows(scope)).map((row) => [row.version, row.state])).toEqual([[1, 'active']]);
    } finally {
      await lax.$disconnect();
    }
  });

  it('says a key that could not be written for a locked file was not written, not that it exists (SQLite)', async () => {
    if (db.provider !== 'sqlite') return;
    const scope = freshScope();
    // Another connection holds the file's write lock for longer than this client waits.
    const holder = new Database(db.url.replace(/^file:/, ''));
    const busy = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: db.url, timeout: 200 }) });
    try {
      holder.exec('BEGIN IMMEDIATE');
      const error = await rejection(new PrismaKeyStore(busy).insert(newScopeKey(scope)));
      holder.exec('ROLLBACK');
      expect(error).toBeInstanceOf(KeyConflictError);
      expect((error as Error).message).not.toMatch(/already exists|created it first/);
      expect((error as Error).message).toMatch(/busy|lock/);
      expect(await rows(scope)).toEqual([]);
    } finally {
      holder.close();
      await busy.$disconnect();
    }
  });

  it('never puts a wrapped key into a conflict message', async () => {
    const scope = freshScope();
    await store.insert(newScopeKey(scope));
    const duplicate = newScopeKey(scope);
    const error = (await rejection(store.insert(duplicate))) as Error;
    expect(error.message).toContain(scope);
    expect(error.message).not.toContain(duplicate.wrappedKey);
  });

  it('rotates: retires the active version and inserts the next in one transaction', async () => {
    const scope = freshScope();
    await store.insert(newScopeKey(scope));
    const next = await store.rotate(newScopeKey(scope, 2));
    expect(next).toMatchObject({ version: 2, state: 'active' });
    expect((await rows(scope)).map((r) => [r.version, r.state])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
    expect((await store.getActive('scope', scope))?.version).toBe(2);
    expect((await store.getVersion(`k-${scope}`, 1))?.state).toBe('retired');
  });

  it('refuses a rotation from a version that is no longer active', async () => {
    const scope = freshScope();
    await store.insert(newScopeKey(scope));
    await store.rotate(newScopeKey(scope, 2));
    expect(await rejection(store.rotate(newScopeKey(scope, 2, { keyId: 'late' })))).toBeInstanceOf(KeyConflictError);
    expect(await rejection(store.rotate(newScopeKey(scope, 4)))).toBeInstanceOf(KeyConflictError);
    expect(await rejection(store.rotate(newScopeKey(freshScope(), 2)))).toBeInstanceOf(KeyConflictError);
    expect((await rows(scope)).map((r) => [r.version, r.state])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
  });

  it('rolls the retirement back when the new version cannot be inserted', async () => {
    const scope = freshScope();
    const taken = newScopeKey(freshScope(), 2, { keyId: 'taken-id' });
    await store.insert(taken);
    await store.insert(newScopeKey(scope));
    // (keyId, version) collides with another scope's row: the insert fails after the retire ran.
    expect(await rejection(store.rotate(newScopeKey(scope, 2, { keyId: 'taken-id' })))).toBeInstanceOf(
      KeyConflictError,
    );
    expect((await rows(scope)).map((r) => [r.version, r.state])).toEqual([[1, 'active']]);
  });

  it('adds a pending version after the active one, which stays active, and promotes it in one transaction', async () => {
    const scope = freshScope();
    await store.insert(newScopeKey(scope));
    const pending = await store.addPending(newScopeKey(scope, 2));
    expect(pending).toMatchObject({ version: 2, state: 'pending' });
    expect((await store.getActive('scope', scope))?.version).toBe(1);
    expect((await store.list({ scope })).map((k) => `${k.version}:${k.state}`)).toEqual(['1:active', '2:pending']);
    // A second pending version, one not after the active one, or a rotation over it: refused.
    expect(await rejection(store.addPending(newScopeKey(scope, 2, { keyId: 'late' })))).toBeInstanceOf(
      KeyConflictError,
    );
    expect(await rejection(store.addPending(newScopeKey(scope, 3)))).toBeInstanceOf(KeyConflictError);
    expect(await rejection(store.addPending(newScopeKey(freshScope(), 2)))).toBeInstanceOf(KeyConflictError);
    expect(await rejection(store.rotate(newScopeKey(scope, 2)))).toBeInstanceOf(KeyConflictError);
    expect(await rejection(store.promote('scope', scope, 3))).toBeInstanceOf(KeyConflictError);
    expect((await rows(scope)).map((r) => [r.version, r.state])).toEqual([
      [1, 'active'],
      [2, 'pending'],
    ]);
    expect(await store.promote('scope', scope, 2)).toMatchObject({ version: 2, state: 'active', keyId: `k-${scope}` });
    expect((await rows(scope)).map((r) => [r.version, r.state])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
    expect(await rejection(store.promote('scope', scope, 2))).toBeInstanceOf(KeyConflictError);
    expect((await store.getActive('scope', scope))?.version).toBe(2);
  });

  it('rolls a promotion back when the version before the pending one is no longer active', async () => {
    const scope = freshScope();
    await store.insert(newScopeKey(scope));
    await store.addPending(newScopeKey(scope, 2));
    // Edited by hand (or destroyed meanwhile): the promotion must not leave two actives or none.
    await db.query("UPDATE hushfield_keys SET state = 'retired' WHERE scope = $1 AND version = 1", [scope]);
    expect(await rejection(store.promote('scope', scope, 2))).toBeInstanceOf(KeyConflictError);
    expect((await rows(scope)).map((r) => [r.version, r.state])).toEqual([
      [1, 'retired'],
      [2, 'pending'],
    ]);
  });

  it('destroys every version of one scope, erasing the wrapped keys in the table', async () => {
    const scope = freshScope();
    const bystander = freshScope();
    await store.insert(newScopeKey(scope));
    await store.rotate(newScopeKey(scope, 2));
    await store.insert(newScopeKey(scope, 1, { kind: 'index', keyId: `i-${scope}` }));
    await store.insert(newScopeKey(bystander));
    expect(await store.destroy('scope', scope)).toBe(2);
    const after = await rows(scope);
    expect(after.filter((r) => r.kind === 'scope').map((r) => [r.state, r.wrapped_key])).toEqual([
      ['destroyed', null],
      ['destroyed', null],
    ]);
    expect(after.find((r) => r.kind === 'index')).toMatchObject({ state: 'active', wrapped_key: expect.any(String) });
    expect((await rows(bystander))[0]).toMatchObject({ state: 'active', wrapped_key: expect.any(String) });
    expect(await store.getActive('scope', scope)).toBeNull();
    expect(await store.destroy('scope', scope)).toBe(0);
  });

  it('accepts a new version of a destroyed scope, since nothing is active', async () => {
    const scope = freshScope();
    await store.insert(newScopeKey(scope));
    await store.destroy('scope', scope);
    expect(await store.insert(newScopeKey(scope, 2))).toMatchObject({ version: 2, state: 'active' });
  });

  it('replaces a wrapped key only while it is still the expected one', async () => {
    const scope = freshScope();
    const key = newScopeKey(scope);
    await store.insert(key);
    expect(await store.replaceWrapped(key.keyId, 1, 'c3RhbGU=', 'bmV3', 'kms:new')).toBe(false);
    expect((await rows(scope))[0]).toMatchObject({ wrapped_key: key.wrappedKey, keyring_id: 'local:test' });
    expect(await store.replaceWrapped(key.keyId, 1, key.wrappedKey, 'bmV3', 'kms:new')).toBe(true);
    expect((await rows(scope))[0]).toMatchObject({ wrapped_key: 'bmV3', keyring_id: 'kms:new' });
    expect(await store.replaceWrapped(key.keyId, 1, key.wrappedKey, 'YWdhaW4=', 'kms:other')).toBe(false);
    await store.destroy('scope', scope);
    expect(await store.replaceWrapped(key.keyId, 1, 'bmV3', 'YWdhaW4=', 'kms:other')).toBe(false);
    expect((await rows(scope))[0]).toMatchObject({ wrapped_key: null, state: 'destroyed' });
  });

  it('lists by filter in kind, scope (code point) and version order', async () => {
    const tag = randomBytes(3).toString('hex');
    const scopes = [`${tag}-b`, `${tag}-B`, `${tag}-é`, `${tag}-a`];
    for (const scope of scopes) await store.insert(newScopeKey(scope));
    await store.rotate(newScopeKey(`${tag}-a`, 2));
    await store.insert(newScopeKey(`${tag}-a`, 1, { kind: 'index', keyId: `i-${tag}` }));
    const mine = (await store.list()).filter((k) => k.scope.startsWith(tag));
    expect(mine.map((k) => `${k.kind}:${k.scope.slice(tag.length + 1)}:${k.version}`)).toEqual([
      'index:a:1',
      'scope:B:1',
      'scope:a:1',
      'scope:a:2',
      'scope:b:1',
      'scope:é:1',
    ]);
    expect((await store.list({ scope: `${tag}-a`, kind: 'scope' })).map((k) => k.version)).toEqual([1, 2]);
    expect((await store.list({ scope: `${tag}-a`, state: 'retired' })).map((k) => k.version)).toEqual([1]);
    expect(await store.list({ scope: `${tag}-none` })).toEqual([]);
  });

  it('refuses malformed keys before touching the database', async () => {
    const scope = freshScope();
    for (const bad of [
      { version: 0 },
      { version: 1.5 },
      { keyId: '' },
      { wrappedKey: '' },
      { scope: '' },
      { kind: 'data' as never },
    ]) {
      expect(await rejection(store.insert(newScopeKey(scope, 1, bad)))).toBeInstanceOf(InvalidArgumentError);
    }
    expect(await rejection(store.rotate(newScopeKey(scope, 1)))).toBeInstanceOf(InvalidArgumentError);
    expect(await rows(scope)).toEqual([]);
  });

  it('refuses a client without the key-store model and prints no client or row', () => {
    expect(() => new PrismaKeyStore(prisma, { model: 'NoSuchModel' })).toThrow(ConfigError);
    expect(() => new PrismaKeyStore({})).toThrow(ConfigError);
    expect(inspect(store)).toBe("PrismaKeyStore { model: 'HushfieldKey' }");
    expect(JSON.stringify(store)).toBe('{"model":"HushfieldKey"}');
  });

  // One connection (PGlite, SQLite): no other connection can hold the lock.
  (testBackend() === 'pglite' || testBackend() === 'sqlite' ? it.skip : it)(
    'reports an insert whose own transaction timed out behind a lock as a KeyStoreError, storing nothing',
    async () => {
      const scope = freshScope();
      // Another connection holds the key table (or the gap the new key goes into) past the
      // 5 s the store's own transaction may take.
      await db.query('BEGIN');
      if (db.provider === 'mysql') {
        await db.query('SELECT key_id FROM hushfield_keys WHERE kind = $1 AND scope = $2 FOR UPDATE', ['scope', scope]);
      } else {
        await db.query('LOCK TABLE hushfield_keys IN SHARE ROW EXCLUSIVE MODE');
      }
      const released = new Promise((resolve) => setTimeout(resolve, 6_500)).then(() => db.query('ROLLBACK'));
      const error = await rejection(store.insert(newScopeKey(scope)));
      await released;
      expect(error).toBeInstanceOf(KeyStoreError);
      expect(error).toMatchObject({ keyId: `k-${scope}`, version: 1 });
      expect((error as Error).message).toMatch(/ran past its 5000 ms .*timeoutMs/);
      expect(await rows(scope)).toEqual([]);
      expect((await store.insert(newScopeKey(scope))).version).toBe(1);
    },
    20_000,
  );

  // Prisma's own transactions wait 2 s to start; keys come with an application's first writes to
  // new scopes, when its pool is busiest (seen in CI: a 4-connection pool, 2,000 rows in 3 scopes).
  it("waits past Prisma's 2 s for a connection of a busy pool before giving up on a key", async () => {
    const busy = new PrismaClient({ adapter: db.adapter({ connections: 1 }) });
    /** Holds the pool's one connection in the application's own transaction for `ms`, once it holds it. */
    const holdConnection = async (ms: number): Promise<{ released: Promise<unknown> }> => {
      let holding!: () => void;
      const held = new Promise<void>((resolve) => (holding = resolve));
      const released = busy.$transaction(
        async (tx) => {
          await tx.$queryRawUnsafe('SELECT 1');
          holding();
          await new Promise((resolve) => setTimeout(resolve, ms));
        },
        { maxWait: 10_000, timeout: 10_000 },
      );
      await held;
      return { released };
    };
    try {
      const scope = freshScope();
      const first = await holdConnection(3_000);
      const stored = await new PrismaKeyStore(busy).insert(newScopeKey(scope));
      await first.released;
      expect(stored.version).toBe(1);
      expect((await rows(scope)).map((row) => row.state)).toEqual(['active']);

      // Past its own limit it gives up with a KeyStoreError naming the option, storing nothing.
      const next = freshScope();
      const second = await holdConnection(1_500);
      const error = await rejection(new PrismaKeyStore(busy, { maxWaitMs: 300 }).insert(newScopeKey(next)));
      await second.released;
      expect(error).toBeInstanceOf(KeyStoreError);
      expect((error as Error).message).toMatch(/could not start within 300 ms .*maxWaitMs/);
      expect(await rows(next)).toEqual([]);
    } finally {
      await busy.$disconnect();
    }
  }, 20_000);

  it('reports a row edited by hand to an unknown state instead of trusting it', async () => {
    const scope = freshScope();
    const key = await store.insert(newScopeKey(scope));
    await db.query("UPDATE hushfield_keys SET state = 'paused' WHERE key_id = $1", [key.keyId]);
    expect(await rejection(store.getVersion(key.keyId, 1))).toBeInstanceOf(ConfigError);
  });
});

describe('PrismaKeyStore under concurrent clients', () => {
  const clients: ReturnType<typeof createPrisma>['prisma'][] = [];

  beforeAll(() => {
    for (let i = 0; i < 4; i++) clients.push(createPrisma(db).prisma);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.$disconnect()));
  });

  it('lets exactly one of several clients insert version 1 of a scope', async () => {
    const scope = freshScope();
    const outcomes = await Promise.allSettled(
      clients.map((client, i) =>
        new PrismaKeyStore(client).insert(newScopeKey(scope, 1, { keyId: `racer-${i}-${scope}` })),
      ),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.map((o) => (o.reason as Error).constructor)).toEqual([
      KeyConflictError,
      KeyConflictError,
      KeyConflictError,
    ]);
    const stored = await rows(scope);
    expect(stored).toHaveLength(1);
    expect(stored[0].key_id).toBe((won[0] as PromiseFulfilledResult<{ keyId: string }>).value.keyId);
  });

  it('lets exactly one of several clients rotate the same version', async () => {
    const scope = freshScope();
    await store.insert(newScopeKey(scope));
    const outcomes = await Promise.allSettled(
      clients.map((client) => new PrismaKeyStore(client).rotate(newScopeKey(scope, 2))),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(KeyConflictError);
    expect((await rows(scope)).map((r) => [r.version, r.state])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
  });
});

describe('PrismaKeyStore: promoting a pending version from several clients', () => {
  const clients: ReturnType<typeof createPrisma>['prisma'][] = [];
  beforeAll(() => {
    for (let i = 0; i < 3; i++) clients.push(createPrisma(db).prisma);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.$disconnect()));
  });

  it('lets exactly one of several clients promote it', async () => {
    const scope = freshScope();
    await store.insert(newScopeKey(scope));
    await store.addPending(newScopeKey(scope, 2));
    const outcomes = await Promise.allSettled(
      clients.map((client) => new PrismaKeyStore(client).promote('scope', scope, 2)),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(KeyConflictError);
    expect((await rows(scope)).map((r) => [r.version, r.state])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
  });
});

describe('PrismaKeyStore: a scope holding U+0000', () => {
  const nulScope = () => `${freshScope()}\u0000tail`;

  it(
    nulRefused()
      ? 'refuses it with InvalidArgumentError before any query (PostgreSQL text cannot hold it, libSQL cuts text at it)'
      : 'stores and finds it like any other scope (MySQL/MariaDB, and SQLite through better-sqlite3)',
    async () => {
      const scope = nulScope();
      if (nulRefused()) {
        const calls: [string, () => Promise<unknown>][] = [
          ['getActive', () => store.getActive('scope', scope)],
          ['getActives', () => store.getActives('scope', ['other', scope])],
          ['list', () => store.list({ scope })],
          ['insert', () => store.insert(newScopeKey(scope))],
          ['rotate', () => store.rotate(newScopeKey(scope, 2))],
          ['destroy', () => store.destroy('scope', scope)],
        ];
        for (const [name, call] of calls) {
          const error = await call().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect([name, error]).toEqual([name, expect.any(InvalidArgumentError)]);
          expect((error as Error).message).toContain('must not contain a NUL character (U+0000)');
        }
        const prefix = `k-${scope.split('\u0000')[0]}%`;
        expect(await db.query('SELECT key_id FROM hushfield_keys WHERE key_id LIKE $1', [prefix])).toEqual([]);
        return;
      }
      await store.insert(newScopeKey(scope));
      expect((await store.getActive('scope', scope))?.scope).toBe(scope);
      expect((await store.getActive('scope', scope.replace('\u0000', '')))?.scope).toBeUndefined();
      expect(await store.destroy('scope', scope)).toBe(1);
    },
  );
});

/**
 * Whether this run's database refuses U+0000 in text: PostgreSQL (a server, a container or
 * PGlite), or libSQL, which cuts text at it.
 */
function nulRefused(): boolean {
  return (
    (testBackend() !== 'mariadb' && testBackend() !== 'sqlite') || process.env.HUSHFIELD_SQLITE_DRIVER === 'libsql'
  );
}
