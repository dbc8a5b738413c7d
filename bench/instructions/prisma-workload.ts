/**
 * The workload `bench/instructions.ts --prisma <shape>` runs under callgrind, bundled first by
 * esbuild into one CommonJS file (nothing is transpiled under valgrind). One process runs one
 * case, PASSES passes of it:
 * - `plain`: the base client's `user.findMany` on PLAIN_URL, whose rows hold plaintext;
 * - `hushfield`: the same call through a cold extended client on ENCRYPTED_URL (a new
 *   `FieldCrypto` each pass, as `pnpm bench`'s cold read: scope keys from the key store, every
 *   DEK unwrapped);
 * - `floor`: the bare `node:crypto` calls for the same values (bench/lib/bare-crypto.ts), on
 *   buffers in memory: per user a DEK unwrap and three decrypts, per post an unwrap and one;
 * - `noop` (point operations only): `plain`'s calls through a client whose query extension
 *   only calls `query(args)`, which is what Prisma's extension mechanism costs any extension.
 * SHAPE is `findmany` (ROWS users, three encrypted values each) or `include` (ROWS users with
 * CHILDREN posts each, one encrypted value a post), or a point operation, `pnpm bench prisma`'s
 * own, ROWS of them a pass, through one client kept across passes (warm, as the bench's):
 * - `findunique`: plain, the HMAC of the email then `findUnique` by `emailIdx` (the plaintext
 *   email, as the bench's plain rows); hushfield, `findUnique({ where: { email } })`;
 * - `update`: the row's `notes` by id, every row updated once before the first pass (hushfield
 *   then knows its id and scope);
 * - `create`: ROWS new users a pass, one by one (plain, as the bench's plain rows: index columns
 *   holding plaintext; hushfield, sealed under a fresh DEK of the row's scope, two blind indexes).
 * The floor is counted for the reads only. ROOT_KEY is the hex key of the `LocalKeyring` the
 * rows were sealed under.
 */
import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring } from '@hushfield/core';
import { fieldEncryption, PrismaKeyStore } from '@hushfield/prisma';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../prisma/generated/client/client';
import { hushfieldSchema } from '../../prisma/generated/hushfield';
import { type BareRow, bareHmac, bareReadRow, bareWriteRow } from '../lib/bare-crypto';
import { plainUserInput, userInput } from '../lib/fixtures';
import { postBody } from '../lib/seed-users';
import { SEED } from './prisma-seed';

type Shape = 'findmany' | 'include' | 'findunique' | 'update' | 'create';

interface Workload {
  readonly shape: Shape;
  readonly rows: number;
  readonly children: number;
  readonly passes: number;
}

/** The query every case's pass makes (the floor excepted). */
function queryOf(shape: Shape): object {
  return shape === 'include' ? { include: { posts: true } } : {};
}

/** Fails unless `out` is the whole result, every encrypted value opened. */
function verify(out: readonly Record<string, unknown>[], workload: Workload): void {
  if (out.length !== workload.rows) throw new Error(`expected ${workload.rows} rows, got ${out.length}`);
  for (const row of out) {
    if (typeof row.email !== 'string' || !row.email.endsWith('@example.com')) {
      throw new Error('a user came back without its email decrypted');
    }
    if (workload.shape !== 'include') continue;
    const posts = row.posts as { body: unknown }[];
    if (posts.length !== workload.children || posts.some((post) => !String(post.body).startsWith('Post '))) {
      throw new Error('a user came back without its posts decrypted');
    }
  }
}

async function clientPasses(workload: Workload, encrypted: boolean): Promise<void> {
  const url = encrypted ? process.env.ENCRYPTED_URL : process.env.PLAIN_URL;
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  const keyring = new LocalKeyring(Buffer.from(process.env.ROOT_KEY ?? '', 'hex'));
  const query = queryOf(workload.shape);
  try {
    for (let pass = 0; pass < workload.passes; pass++) {
      let users: { findMany(args: object): Promise<Record<string, unknown>[]> } = base.user;
      if (encrypted) {
        // As bench/lib/prisma-clients.ts `encryptedClient`: a cold cache every pass.
        // On one thread: the count is of this process's main thread's path, as the bench's one-thread rows.
        const crypto = new FieldCrypto({
          keyring,
          keyStore: new PrismaKeyStore(base),
          cache: { ttlMs: 3_600_000 },
          parallelDecrypt: false,
        });
        users = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring, crypto })).user as typeof users;
      }
      const out = await users.findMany(query);
      if (encrypted) verify(out, workload);
    }
  } finally {
    await base.$disconnect();
  }
}

/**
 * The point operations of `findunique`, `update` and `create`: ROWS a pass, one client for all passes.
 * @param noop - through a query extension that only calls `query(args)` (plain rows, as `plain`)
 */
async function pointPasses(workload: Workload, encrypted: boolean, noop = false): Promise<void> {
  const url = encrypted ? process.env.ENCRYPTED_URL : process.env.PLAIN_URL;
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  const keyring = new LocalKeyring(Buffer.from(process.env.ROOT_KEY ?? '', 'hex'));
  const indexKey = randomBytes(32);
  try {
    const rows = await base.user.findMany({ select: { id: true }, orderBy: { id: 'asc' }, take: workload.rows });
    const ids = rows.map((row) => row.id);
    const emails = Array.from({ length: ids.length }, (_, i) => userInput(i, SEED.tag, SEED.tenants).email);
    type Users = {
      findUnique(args: object): Promise<Record<string, unknown> | null>;
      update(args: object): Promise<unknown>;
      create(args: object): Promise<Record<string, unknown>>;
    };
    const users = (encrypted
      ? base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring })).user
      : noop
        ? base.$extends({ query: { $allOperations: ({ args, query }) => query(args) } }).user
        : base.user) as unknown as Users;
    const update = (id: string, pass: number) =>
      users.update({ where: { id }, data: { notes: `notes of pass ${pass}` } });
    if (workload.shape === 'update') for (const id of ids) await update(id, -1);
    for (let pass = 0; pass < workload.passes; pass++) {
      if (workload.shape === 'create') {
        for (let i = 0; i < workload.rows; i++) {
          // A tag per process and pass keeps every email (and plain index value) unique: the
          // counts run this workload twice on the same database.
          const tag = `c${process.pid}p${pass}`;
          const data = encrypted ? userInput(i, tag, SEED.tenants) : plainUserInput(i, tag, SEED.tenants);
          const row = await users.create({ data });
          if (row.email !== data.email)
            throw new Error(`create ${i} of pass ${pass} came back without its email as given`);
        }
        continue;
      }
      for (let i = 0; i < ids.length; i++) {
        if (workload.shape === 'update') {
          await update(ids[i], pass);
          continue;
        }
        const email = emails[i];
        let row: Record<string, unknown> | null;
        if (encrypted) row = await users.findUnique({ where: { email } });
        else {
          bareHmac(indexKey, email.trim().toLowerCase());
          row = await users.findUnique({ where: { emailIdx: email } });
        }
        if (row === null || (encrypted && row.email !== email)) throw new Error(`lookup ${i} of pass ${pass} missed`);
      }
    }
  } finally {
    await base.$disconnect();
  }
}

function floorPasses(workload: Workload): void {
  const scopeKey = randomBytes(32);
  const aad = Buffer.from('hushfield/v1|users|email|0123456789abcdef|7d1f5c2e-3b7a-4a51-9d0c-2f6f0f3b9a11');
  const rows: BareRow[] = [];
  for (let i = 0; i < workload.rows; i++) {
    const user = userInput(i, SEED.tag, SEED.tenants);
    rows.push(bareWriteRow(scopeKey, [user.email, user.ssn, user.notes], aad));
    if (workload.shape !== 'include') continue;
    for (let k = 0; k < workload.children; k++) rows.push(bareWriteRow(scopeKey, [postBody(i, k)], aad));
  }
  for (let pass = 0; pass < workload.passes; pass++) {
    for (const row of rows) bareReadRow(scopeKey, row, aad);
  }
}

async function main(): Promise<void> {
  const shapes: readonly Shape[] = ['findmany', 'include', 'findunique', 'update', 'create'];
  const shape = shapes.find((name) => name === process.env.SHAPE) ?? 'findmany';
  const workload: Workload = {
    shape,
    rows: Number(process.env.ROWS),
    children: Number(process.env.CHILDREN),
    passes: Number(process.env.PASSES),
  };
  const which = process.env.CASE;
  if (which === 'floor') floorPasses(workload);
  else if (which === 'noop' && (shape === 'findunique' || shape === 'update' || shape === 'create'))
    await pointPasses(workload, false, true);
  else if (which !== 'plain' && which !== 'hushfield') throw new Error(`unknown CASE ${which}`);
  else if (shape === 'findunique' || shape === 'update' || shape === 'create')
    await pointPasses(workload, which === 'hushfield');
  else await clientPasses(workload, which === 'hushfield');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
