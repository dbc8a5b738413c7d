/**
 * The workload `bench/instructions.ts --handler <shape>` runs under callgrind (bundled by
 * esbuild first, as prisma-workload.ts): the extension's handler alone, with Prisma's query
 * answered from memory (no Prisma, no driver, no database), or the bare crypto of the same
 * operation. One process runs one case, PASSES passes of ROWS operations:
 * - `handler`: `OperationHandler.handle` of the `User` model on a `FieldCrypto` with a
 *   `LocalKeyring` and a `MemoryKeyStore`, its keys and DEK cache warm (ROWS users created and
 *   each updated once through it first, untimed by the count, which takes passes' differences):
 *   `findunique` by email (blind index, three values opened, the hit re-checked), `update` of
 *   the notes of a row it has seen, `create` of a new user (a fresh DEK, three seals, two
 *   blind indexes);
 * - `floor`: the bare `node:crypto` calls the design requires of the same operation
 *   (bench/lib/bare-crypto.ts, randomness pooled as core's): `findunique`, the email's HMAC and
 *   three values opened under a DEK already unwrapped (as the warm DEK cache has it); `update`,
 *   a fresh DEK drawn and wrapped, the notes sealed under it, two values opened; `create`, a
 *   fresh DEK drawn and wrapped, three values sealed, two HMACs.
 * So `handler − floor` is what hushfield's own code costs an operation, and `floor` what the
 * design's crypto costs through `node:crypto`'s API.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring, MemoryKeyStore } from '@hushfield/core';
import { OperationHandler, type QueryParams } from '../../packages/prisma/dist/extension/query/operations';
import { ResultDecryptor } from '../../packages/prisma/dist/extension/read/decrypt-result';
import { SchemaView } from '../../packages/prisma/dist/extension/schema-view';
import { hushfieldSchema } from '../../prisma/generated/hushfield';
import { bareHmac, bareReadFields, bareSeal, bareWriteRow, type BareRow } from '../lib/bare-crypto';
import { userInputs } from '../lib/fixtures';

type Row = Record<string, unknown>;
type Shape = 'findunique' | 'update' | 'create';

/** Randomness drawn from one 4 KiB buffer at a time, as core's random pool. */
let pool = randomBytes(4096);
let used = 0;
function pooled(bytes: number): Buffer {
  if (used + bytes > pool.length) {
    pool = randomBytes(4096);
    used = 0;
  }
  const out = Buffer.from(pool.subarray(used, used + bytes));
  used += bytes;
  return out;
}

/**
 * The new users pass `pass` of `create` adds (none for the other shapes), made per pass: made all
 * at once, the longer of a count's two runs would hold twice as many for all its passes, and its
 * garbage collections would mark them.
 */
function newUsers(shape: Shape, rows: number, pass: number): ReturnType<typeof userInputs> {
  return shape === 'create' ? userInputs(rows * (pass + 1), rows, 'c', 10) : [];
}

async function handlerPasses(shape: Shape, rows: number, passes: number, settle: number): Promise<void> {
  const keyring = new LocalKeyring(randomBytes(32));
  const crypto = new FieldCrypto({ keyring, keyStore: new MemoryKeyStore(), cache: { ttlMs: 3_600_000 } });
  const view = new SchemaView(hushfieldSchema, {});
  const handler = new OperationHandler(view, crypto, new ResultDecryptor(view, crypto, 'throw'), {} as never);
  // The "database": rows as the extension wrote them, by blind index and by id.
  const byIndex = new Map<unknown, Row>();
  const byId = new Map<unknown, Row>();
  let serial = 0;
  const answer = (operation: string) => async (args: Row) => {
    if (operation === 'create') {
      // The extension generates the id of a model whose values are bound to it; else the database.
      const row: Row = { id: `00000000-0000-4000-8000-${String(serial++).padStart(12, '0')}`, ...(args.data as Row) };
      row.createdAt = new Date(0);
      byIndex.set(row.emailIdx, row);
      byId.set(row.id, row);
      return { ...row };
    }
    const where = args.where as Row;
    const row = (where.emailIdx !== undefined ? byIndex.get(where.emailIdx) : byId.get(where.id)) as Row;
    if (operation === 'update') Object.assign(row, args.data as Row);
    return { ...row };
  };
  const run = (operation: string, args: Row) =>
    handler.handle({ model: 'User', operation, args, query: answer(operation) } as QueryParams) as Promise<Row>;
  const users = userInputs(0, rows, 'h', 10);
  const ids: string[] = [];
  for (const data of users) ids.push((await run('create', { data: { ...data } })).id as string);
  for (const id of ids) await run('update', { where: { id }, data: { notes: 'notes before the passes' } });
  for (let pass = 0; pass < passes; pass++) {
    if (pass === settle) collectGarbage();
    const creates = newUsers(shape, rows, pass);
    for (let i = 0; i < rows; i++) {
      if (shape === 'create') await run('create', { data: { ...creates[i] } });
      else if (shape === 'update') await run('update', { where: { id: ids[i] }, data: { notes: `notes ${pass}` } });
      else if ((await run('findUnique', { where: { email: users[i].email } })).email !== users[i].email)
        throw new Error(`lookup ${i} of pass ${pass} missed`);
    }
  }
  if (passes === settle) collectGarbage();
}

function floorPasses(shape: Shape, rows: number, passes: number, settle: number): void {
  const scopeKey = randomBytes(32);
  const indexKey = randomBytes(32);
  const dek = randomBytes(32);
  const aad = Buffer.from('hushfield/v1|users|email|0123456789abcdef|7d1f5c2e-3b7a-4a51-9d0c-2f6f0f3b9a11');
  const users = userInputs(0, rows, 'h', 10);
  const stored: BareRow[] = users.map((user) => ({
    wrappedDek: bareSeal(scopeKey, dek, aad),
    fields: [user.email, user.ssn, user.notes].map((value) => bareSeal(dek, Buffer.from(value, 'utf8'), aad)),
  }));
  for (let pass = 0; pass < passes; pass++) {
    if (pass === settle) collectGarbage();
    const creates = newUsers(shape, rows, pass);
    for (let i = 0; i < rows; i++) {
      if (shape === 'findunique') {
        bareHmac(indexKey, users[i].email);
        bareReadFields(dek, stored[i], aad);
      } else if (shape === 'update') {
        bareWriteRow(scopeKey, [`notes ${pass}`], aad, pooled);
        bareReadFields(dek, { wrappedDek: stored[i].wrappedDek, fields: stored[i].fields.slice(0, 2) }, aad);
      } else {
        const user = creates[i];
        bareWriteRow(scopeKey, [user.email, user.ssn, user.notes], aad, pooled);
        bareHmac(indexKey, user.email);
        bareHmac(indexKey, user.ssn);
      }
    }
  }
  if (passes === settle) collectGarbage();
}

/** A full garbage collection (node runs with `--expose-gc`), or nothing without it. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function main(): Promise<void> {
  const shapes: readonly Shape[] = ['findunique', 'update', 'create'];
  const shape = shapes.find((name) => name === process.env.SHAPE);
  if (shape === undefined) throw new Error(`unknown SHAPE ${process.env.SHAPE}`);
  const rows = Number(process.env.ROWS);
  const passes = Number(process.env.PASSES);
  // Both runs of a count collect garbage fully before pass SETTLE (the first counted one; the
  // shorter run collects at its end, where its passes stop), so the counted passes start from
  // the same heap whatever the process did before them.
  const settle = process.env.SETTLE === undefined ? -1 : Number(process.env.SETTLE);
  if (process.env.CASE === 'handler') await handlerPasses(shape, rows, passes, settle);
  else if (process.env.CASE === 'floor') floorPasses(shape, rows, passes, settle);
  else throw new Error(`unknown CASE ${process.env.CASE}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
