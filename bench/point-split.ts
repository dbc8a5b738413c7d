/**
 * Where the time hushfield adds to a point operation goes, and why a tight loop understates it.
 *
 * 1. `creates` one-by-one creates on PostgreSQL through plain Prisma, through Prisma with a
 *    no-op query extension, and through hushfield, each under V8's sampling profiler (100 µs):
 *    CPU per create by group (hushfield core and extension, node:crypto's JavaScript and native
 *    parts, lru-cache, the Prisma runtime, pg, GC, idle) and the difference hushfield − plain.
 * 2. `findUnique` by blind index on 10,000 sealed rows: wall and CPU per lookup, split into the
 *    extension's work before it calls Prisma's query, the query (Prisma and the round trip) and
 *    its work after (decrypt, re-check); then the same extension work in a tight loop with the
 *    query answered from memory.
 * 3. The same row work in core alone (seal 3 values under a fresh DEK, 2 blind indexes, open the
 *    3 values), CPU per row in a tight loop and with `--thrash` MiB of memory touched between
 *    rows (the thrash itself not counted): what the CPU caches being cold does to that work,
 *    which is how it runs between one operation's database round trips.
 *
 *   tsx --tsconfig bench/tsconfig.json bench/point-split.ts [creates=3000] [--thrash 2,16]
 *
 * Uses TEST_DATABASE_URL (else PostgreSQL on 127.0.0.1:5432). Prints a report; writes nothing.
 */
// First: the packages are measured as built (dist/), so the build is brought up to date.
import './lib/built';
import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector';
import { FieldCrypto, LocalKeyring, MemoryKeyStore } from '@hushfield/core';
import { OperationHandler, type QueryParams } from '../packages/prisma/dist/extension/query/operations';
import type { PrismaClient } from '../prisma/generated/client/client';
import { createTestDatabase } from '../test/support/database';
import { plainUserInputs, userInputs } from './lib/fixtures';
import { encryptedClient, plainClient, plainUsers, truncateUsers, type UserOps } from './lib/prisma-clients';
import { insertEncryptedUsers } from './lib/seed-users';

process.env.TEST_DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/postgres';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

/** The group a sampled function belongs to. */
function groupOf({ functionName, url }: ProfileNode['callFrame']): string {
  if (!url) return functionName.startsWith('(') ? functionName : 'native (crypto, I/O, V8 built-ins)';
  if (url.includes('packages/core/')) return 'hushfield core';
  if (url.includes('packages/prisma/')) return 'hushfield extension';
  if (url.includes('lru-cache')) return 'lru-cache';
  if (url.includes('@prisma/client')) return 'Prisma runtime';
  if (url.includes('adapter-pg') || /\/pg(-[a-z]+)?\//.test(url)) return 'pg and its adapter';
  if (url.startsWith('node:')) {
    const module = url.slice('node:'.length).split('/').pop()!;
    return ['buffer', 'cipher', 'hash', 'random'].includes(module) ? `Node ${module}` : 'Node (other)';
  }
  return 'other';
}

/** CPU µs per operation by group while `work` runs (which returns how many operations it did). */
async function profiled(session: Session, work: () => Promise<number>): Promise<Map<string, number>> {
  const post = <T>(method: string, params?: object) =>
    new Promise<T>((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))),
    );
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
  const operations = await work();
  const { profile } = await post<{
    profile: { nodes: ProfileNode[]; samples: number[]; startTime: number; endTime: number };
  }>('Profiler.stop');
  const perSample = (profile.endTime - profile.startTime) / profile.samples.length / operations;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const groups = new Map<string, number>();
  for (const id of profile.samples) {
    const group = groupOf(nodes.get(id)!.callFrame);
    groups.set(group, (groups.get(group) ?? 0) + perSample);
  }
  return groups;
}

async function createSplit(creates: number): Promise<void> {
  const db = await createTestDatabase('postgres');
  const base: PrismaClient = plainClient(db);
  const plain = plainUsers(base);
  const noop = base.$extends({
    query: { $allModels: { $allOperations: ({ args, query }) => query(args) } },
  }).user as unknown as UserOps;
  const hushfield = encryptedClient(base, new LocalKeyring(randomBytes(32))).users;
  const session = new Session();
  session.connect();
  try {
    await truncateUsers(db);
    for (const row of plainUserInputs(0, 300, 'warm-p', 10)) await plain.create({ data: row });
    for (const row of plainUserInputs(0, 300, 'warm-n', 10)) await noop.create({ data: row });
    for (const row of userInputs(0, 300, 'warm-h', 10)) await hushfield.create({ data: row });
    const run = (users: UserOps, rows: object[]) => async () => {
      for (const row of rows) await users.create({ data: row as never });
      return rows.length;
    };
    const split = {
      plain: await profiled(session, run(plain, plainUserInputs(0, creates, 'p', 10))),
      noop: await profiled(session, run(noop, plainUserInputs(0, creates, 'n', 10))),
      hushfield: await profiled(session, run(hushfield, userInputs(0, creates, 'h', 10))),
    };
    const busy = (groups: Map<string, number>) =>
      [...groups].filter(([group]) => group !== '(idle)').reduce((sum, [, us]) => sum + us, 0);
    console.log(`\n${creates} creates each on PostgreSQL: CPU µs per create (sampled), by group\n`);
    console.log(`${'group'.padEnd(36)} ${'plain'.padStart(8)} ${'hushfield'.padStart(10)} ${'added'.padStart(8)}`);
    const groups = [...new Set([...split.plain.keys(), ...split.hushfield.keys()])];
    const added = (group: string) => (split.hushfield.get(group) ?? 0) - (split.plain.get(group) ?? 0);
    for (const group of groups.sort((a, b) => added(b) - added(a))) {
      const cells = [split.plain.get(group) ?? 0, split.hushfield.get(group) ?? 0, added(group)];
      console.log(`${group.padEnd(36)} ${cells.map((us, k) => us.toFixed(1).padStart(k === 1 ? 10 : 8)).join(' ')}`);
    }
    const [p, n, h] = [busy(split.plain), busy(split.noop), busy(split.hushfield)];
    console.log(
      `\nbusy CPU per create: plain ${p.toFixed(0)} µs, no-op extension ${n.toFixed(0)} µs, hushfield ${h.toFixed(0)} µs`,
    );
  } finally {
    session.disconnect();
    await base.$disconnect();
    await db.close();
  }
}

/** Times spent in and around the extension's handler, summed over the lookups it served. */
interface Segments {
  before: number;
  query: number;
  after: number;
  count: number;
  /** The handler that served them (the extension's own instance). */
  handler?: OperationHandler;
}

/**
 * Wraps `OperationHandler.prototype.handle` so that each call adds its segments to `into`
 * (the query callback is wrapped too): before the query, in it, after it. @returns the restorer
 */
function timeHandler(into: Segments): () => void {
  const original = OperationHandler.prototype.handle;
  OperationHandler.prototype.handle = async function (this: OperationHandler, params: QueryParams, ...rest) {
    const start = performance.now();
    let sent = start;
    let answered = start;
    const query = async (args: Record<string, unknown>) => {
      sent = performance.now();
      const result = await params.query(args);
      answered = performance.now();
      return result;
    };
    const result = await original.call(this, { ...params, query }, ...rest);
    into.before += sent - start;
    into.query += answered - sent;
    into.after += performance.now() - answered;
    into.count++;
    into.handler = this;
    return result;
  };
  return () => {
    OperationHandler.prototype.handle = original;
  };
}

async function lookupSplit(lookups: number): Promise<void> {
  const db = await createTestDatabase('postgres');
  const keyring = new LocalKeyring(randomBytes(32));
  const base: PrismaClient = plainClient(db);
  try {
    const rows = userInputs(0, 10_000, 'q', 10);
    await insertEncryptedUsers(db, encryptedClient(base, keyring, { dekCache: false }).crypto, rows);
    const users = encryptedClient(base, keyring).users;
    const email = (j: number) => rows[(j * 7919) % rows.length].email;
    for (let j = 0; j < 2_000; j++) await users.findUnique({ where: { email: email(j) } });
    const segments: Segments = { before: 0, query: 0, after: 0, count: 0 };
    const restore = timeHandler(segments);
    let wallMs: number;
    let cpuUs: number;
    try {
      const cpu = process.cpuUsage();
      const start = performance.now();
      for (let j = 0; j < lookups; j++) await users.findUnique({ where: { email: email(j) } });
      wallMs = performance.now() - start;
      const used = process.cpuUsage(cpu);
      cpuUs = used.user + used.system;
    } finally {
      restore();
    }
    const per = (ms: number) => ((ms * 1000) / segments.count).toFixed(1);
    console.log(`\n${lookups} findUnique by blind index on PostgreSQL (10,000 sealed rows): µs per lookup\n`);
    console.log(`wall ${per(wallMs)}, CPU ${(cpuUs / lookups).toFixed(1)}`);
    console.log(
      `hushfield before the query ${per(segments.before)}, the query (Prisma, round trip) ${per(segments.query)},`,
    );
    console.log(
      `hushfield after it (decrypt, re-check) ${per(segments.after)}, around the handler ${per(wallMs - segments.before - segments.query - segments.after)}`,
    );

    // The same handler work with the query answered from memory, in a tight loop.
    // What Prisma's query returns for each row: the plain client reads the envelopes as stored.
    const stored = (await base.user.findMany()) as unknown as Record<string, unknown>[];
    const byIndex = new Map(stored.map((row) => [row.emailIdx, row]));
    const tight: Segments = { before: 0, query: 0, after: 0, count: 0 };
    const handler = segments.handler as OperationHandler;
    const memoryQuery = async (args: Record<string, unknown>) => ({
      ...byIndex.get((args.where as Record<string, unknown>).emailIdx),
    });
    const restoreTight = timeHandler(tight);
    try {
      const cpu = process.cpuUsage();
      for (let j = 0; j < 50_000; j++) {
        await handler.handle({
          model: 'User',
          operation: 'findUnique',
          args: { where: { email: email(j) } },
          query: memoryQuery,
        });
      }
      const used = process.cpuUsage(cpu);
      console.log(
        `the handler alone, query answered from memory, tight loop: CPU ${((used.user + used.system) / 50_000).toFixed(1)}`,
      );
    } finally {
      restoreTight();
    }
  } finally {
    await base.$disconnect();
    await db.close();
  }
}

async function coldCache(thrashMiB: readonly number[]): Promise<void> {
  const crypto = new FieldCrypto({
    keyring: new LocalKeyring(randomBytes(32)),
    keyStore: new MemoryKeyStore(),
    cache: { ttlMs: 3_600_000 },
  });
  const fields = ['email', 'ssn', 'notes'] as const;
  const values = ['user.p.000123@example.com', '000-12-0123', 'Prefers contact by post. Reviewed 2026-11-03.'];
  const email = {
    model: 'users',
    field: 'email',
    name: 'email_idx',
    normalize: ['lowercase', 'trim'] as const,
    bits: 256,
  };
  const ssn = { ...email, field: 'ssn', name: 'ssn_idx', normalize: [] as const };
  const row = async (i: number) => {
    const encryptor = await crypto.rowEncryptor('tenant-1');
    const sealed = fields.map((field, k) => encryptor.encrypt(values[k], { model: 'users', field, rowId: String(i) }));
    encryptor.dispose();
    await crypto.blindIndex(email, values[0]);
    await crypto.blindIndex(ssn, values[1]);
    await crypto.decryptMany(
      sealed.map((value, k) => ({ value, ctx: { model: 'users', field: fields[k], rowId: String(i) } })),
    );
  };
  for (let i = 0; i < 20_000; i++) await row(i);
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  };
  console.log('\ncore row work (seal 3 values, 2 blind indexes, open 3 values): CPU µs per row, median of 7 runs\n');
  for (const mib of [0, ...thrashMiB]) {
    const memory = new Uint32Array((mib * 1024 * 1024) / 4);
    const perRow: number[] = [];
    for (let runIndex = 0; runIndex < 7; runIndex++) {
      let rowCpu = 0;
      for (let i = 0; i < 2_000; i++) {
        // One read-modify-write per 64-byte line evicts the row's code and data from the caches.
        for (let k = 0; k < memory.length; k += 16) memory[k]++;
        const before = cpu();
        await row(i);
        rowCpu += cpu() - before;
      }
      perRow.push(rowCpu / 2_000);
    }
    perRow.sort((a, b) => a - b);
    console.log(`${mib === 0 ? 'tight loop' : `${mib} MiB touched between rows`}`.padEnd(32), perRow[3].toFixed(1));
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const thrashAt = args.indexOf('--thrash');
  const thrash = thrashAt >= 0 ? args.splice(thrashAt, 2)[1].split(',').map(Number) : [2, 16];
  await createSplit(Number(args[0] ?? 3_000));
  await lookupSplit(3_000);
  await coldCache(thrash);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
