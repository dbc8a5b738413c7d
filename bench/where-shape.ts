/**
 * What the shape of an update's where costs plain Prisma. An update of a row the extension has
 * seen is narrowed to the row's scope; Prisma turns `{ id, tenantId }` and
 * `{ id, AND: [{ tenantId }] }` into the same SQL, but its own work differs. This runs plain
 * Prisma's `update({ where, data: { notes } })` on sealed rows in three shapes, and on
 * plaintext rows, in rounds that rotate the order, and prints CPU and wall time per update
 * (median and min–max over the rounds):
 * - `plaintext rows, { id }`: what `pnpm bench prisma` calls plain;
 * - `sealed rows, { id }`: the same on rows holding envelopes (longer rows to return);
 * - `{ id, tenantId }`: the scope beside the id, what the extension now sends (`narrowed`);
 * - `{ id, AND: [{ tenantId }] }`: the scope as an AND conjunct, what it sent before.
 *
 *   tsx --tsconfig bench/tsconfig.json bench/where-shape.ts [rows=500] [rounds=40]
 *
 * Uses TEST_DATABASE_URL (else PostgreSQL on 127.0.0.1:5432). Prints a report; writes nothing.
 */
// First: the packages are measured as built (dist/), so the build is brought up to date.
import './lib/built';
import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@hushfield/core';
import type { PrismaClient } from '../prisma/generated/client/client';
import { createTestDatabase } from '../test/support/database';
import { plainUserInputs, userInputs } from './lib/fixtures';
import { median } from './lib/measure';
import { encryptedClient, plainClient } from './lib/prisma-clients';
import { insertEncryptedUsers, insertPlainUsers } from './lib/seed-users';

process.env.TEST_DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/postgres';

type Update = (id: string, round: number) => Promise<unknown>;

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 500);
  const rounds = Number(process.argv[3] ?? 40);
  const db = await createTestDatabase('postgres');
  const base: PrismaClient = plainClient(db);
  try {
    const sealer = encryptedClient(base, new LocalKeyring(randomBytes(32)), { dekCache: false }).crypto;
    const sealedIds = await insertEncryptedUsers(db, sealer, userInputs(0, rows, 'ws', 10));
    const plainIds = await insertPlainUsers(db, plainUserInputs(0, rows, 'wp', 10));
    const tenantOf = new Map(
      (await base.user.findMany({ select: { id: true, tenantId: true } })).map((r) => [r.id, r.tenantId]),
    );
    const notes = (round: number) => ({ notes: `updated in round ${round}` });
    const cases: [string, readonly string[], Update][] = [
      ['plaintext rows, { id }', plainIds, (id, round) => base.user.update({ where: { id }, data: notes(round) })],
      ['sealed rows, { id }', sealedIds, (id, round) => base.user.update({ where: { id }, data: notes(round) })],
      [
        'sealed rows, { id, tenantId }',
        sealedIds,
        (id, round) => base.user.update({ where: { id, tenantId: tenantOf.get(id) }, data: notes(round) }),
      ],
      [
        'sealed rows, { id, AND: [{ tenantId }] }',
        sealedIds,
        (id, round) => base.user.update({ where: { id, AND: [{ tenantId: tenantOf.get(id) }] }, data: notes(round) }),
      ],
    ];
    const cpu = cases.map((): number[] => []);
    const wall = cases.map((): number[] => []);
    // Two rounds of each first, untimed: Prisma compiles and caches each shape's query plan.
    for (let round = -2; round < rounds; round++) {
      for (let k = 0; k < cases.length; k++) {
        const c = (k + Math.max(round, 0)) % cases.length;
        const [, ids, update] = cases[c];
        const used = process.cpuUsage();
        const start = performance.now();
        for (const id of ids) await update(id, round);
        const elapsed = performance.now() - start;
        const { user, system } = process.cpuUsage(used);
        if (round < 0) continue;
        cpu[c].push((user + system) / ids.length);
        wall[c].push((elapsed * 1000) / ids.length);
      }
    }
    const stat = (values: number[]) =>
      `${median(values).toFixed(1)} (${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)})`;
    console.log(`\nplain Prisma update of one row, µs per update: median (min–max) over ${rounds} rounds of ${rows}\n`);
    console.log(`${'where'.padEnd(42)} ${'CPU'.padStart(22)} ${'wall'.padStart(24)}`);
    cases.forEach(([name], c) =>
      console.log(`${name.padEnd(42)} ${stat(cpu[c]).padStart(22)} ${stat(wall[c]).padStart(24)}`),
    );
    // Paired per round: the AND form against the scope beside the id.
    const pairs = (of: number[][]) => of[3].map((value, round) => value - of[2][round]);
    console.log(
      `\nAND form − scope beside the id, paired per round: CPU ${stat(pairs(cpu))}, wall ${stat(pairs(wall))}`,
    );
  } finally {
    await base.$disconnect();
    await db.close();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
