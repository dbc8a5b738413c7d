/**
 * Focused micro-benchmark for issue 12 item 2: the cost of re-checking full-length blind-index
 * hits. Times findUnique / findUniqueOrThrow / findFirst by a full-length index on PostgreSQL,
 * interleaved rounds, median µs per call. Run it on two trees (with and without the re-check)
 * to compare: `TEST_DATABASE_URL=... pnpm exec tsx --tsconfig bench/tsconfig.json bench/recheck.ts`.
 */
// First: the packages are measured as built (dist/), so the build is brought up to date.
import './lib/built';
import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@hushfield/core';
import { computedBlindIndex } from '@hushfield/prisma';
import { createTestDatabase } from '../test/support/database';
import { encryptedClient, plainClient } from './lib/prisma-clients';

const ROWS = 200;
const CALLS = 400;
const ROUNDS = 7;

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const base = plainClient(db);
  try {
    const keyring = new LocalKeyring(randomBytes(32));
    const { users } = encryptedClient(base, keyring);
    const emails: string[] = [];
    for (let i = 0; i < ROWS; i++) {
      emails.push(`user${i}@example.com`);
      await users.create({
        data: { tenantId: 'acme', name: `n${i}`, email: emails[i], emailIdx: computedBlindIndex, notes: 'x' } as never,
      });
    }
    const u = users as unknown as Record<string, (args: object) => Promise<unknown>>;
    const cases: [string, (i: number) => Promise<unknown>][] = [
      ['findUnique by emailIdx (all fields)', (i) => u.findUnique({ where: { emailIdx: emails[i % ROWS] } })],
      [
        'findUnique by emailIdx, select name',
        (i) => u.findUnique({ where: { emailIdx: emails[i % ROWS] }, select: { name: true } }),
      ],
      ['findFirst by email (all fields)', (i) => u.findFirst({ where: { email: emails[i % ROWS] } })],
      [
        'findUniqueOrThrow by emailIdx (all fields)',
        (i) => u.findUniqueOrThrow({ where: { emailIdx: emails[i % ROWS] } }),
      ],
    ];
    for (const [, run] of cases) for (let i = 0; i < 100; i++) await run(i); // warm caches and JIT
    const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, run] of cases) {
        const start = process.hrtime.bigint();
        for (let i = 0; i < CALLS; i++) await run(i);
        samples.get(name)!.push(Number(process.hrtime.bigint() - start) / 1000 / CALLS);
      }
    }
    for (const [name, values] of samples) {
      values.sort((a, b) => a - b);
      console.log(`${name.padEnd(44)} ${values[ROUNDS >> 1].toFixed(0).padStart(6)} µs (min ${values[0].toFixed(0)})`);
    }
  } finally {
    await base.$disconnect();
    await db.close();
  }
}

void main();
