/**
 * findMany scaling: the same read at growing table sizes, plain and through hushfield (cold,
 * and with scope keys warm), to show the cost per row stays flat. hushfield decrypts on the
 * calling thread only (`parallelDecrypt: false`): the decrypt thread takes reads from 4,096
 * values on, which the smallest size is not, so with it the comparison would be of two ways
 * of reading rather than of sizes.
 */
import type { Keyring } from '@hushfield/core';
import type { PrismaClient } from '../../prisma/generated/client/client';
import type { TestDatabase } from '../../test/support/database';
import { plainUserInputs, userInputs } from '../lib/fixtures';
import { medianMs, sampleInterleaved, type RunPlan } from '../lib/measure';
import { encryptedClient, plainUsers, truncateUsers } from '../lib/prisma-clients';
import { insertEncryptedUsers, insertPlainUsers } from '../lib/seed-users';
import { count, ms, ratio, us, type Table, type TargetCheck } from '../lib/report';

/** What {@link runScaling} needs from the Prisma benchmark. */
export interface ScalingOptions {
  readonly db: TestDatabase;
  readonly base: PrismaClient;
  readonly keyring: Keyring;
  /** Table sizes, ascending. */
  readonly sizes: readonly number[];
  readonly tenants: number;
  readonly plan: RunPlan;
  readonly log: (line: string) => void;
}

/** A flat cost per row: the largest per-row cost within this factor of the smallest. */
const FLAT_WITHIN = 1.25;

/** Measures findMany at each size; the table grows between sizes, never rebuilt. */
export async function runScaling(options: ScalingOptions): Promise<{ table: Table; target: TargetCheck }> {
  const { db, base, keyring, tenants, log } = options;
  const sizes = [...options.sizes].sort((a, b) => a - b);
  // Large sizes: the code is warm from the smaller ones, and each run takes seconds. Small
  // sizes: a run takes milliseconds, so a stall on a busy machine moves one run a lot; three
  // times the runs cost a few seconds and steady the median.
  const planFor = (size: number): RunPlan => {
    if (size >= 50_000) return { warmup: 0, runs: Math.min(3, options.plan.runs) };
    if (size <= 2_000) return { warmup: options.plan.warmup, runs: options.plan.runs * 3 };
    return options.plan;
  };
  const plain = plainUsers(base);
  // Plaintext and sealed rows share the table, each read selecting its own by name ('User sp-'
  // and 'User s-' prefixes are disjoint), so plain runs alternate with hushfield's: load from
  // elsewhere hits all three alike (the `prisma` section's reads do the same).
  const plainRead = { where: { name: { startsWith: 'User sp-' } } };
  const sealedRead = { where: { name: { startsWith: 'User s-' } } };

  const plainMs: number[] = [];
  const coldMs: number[] = [];
  const keysWarmMs: number[] = [];
  await truncateUsers(db);
  let filled = 0;
  const writer = encryptedClient(base, keyring, { dekCache: false }).crypto;
  const oneThread = { parallelDecrypt: false } as const;
  // Scope keys cached, DEK cache off: the steady per-row cost, without one-off key resolution.
  const keysWarm = encryptedClient(base, keyring, { dekCache: false, ...oneThread }).users;
  const readsAll = async (read: Promise<unknown[]>, size: number) => {
    const rows = (await read).length;
    if (rows !== size) throw new Error(`read ${rows} rows, expected ${size}`);
  };
  for (const size of sizes) {
    log(`prisma: scaling, findMany of ${count(size)}: plain, cold and keys warm`);
    await insertPlainUsers(db, plainUserInputs(filled, size - filled, 'sp', tenants));
    await insertEncryptedUsers(db, writer, userInputs(filled, size - filled, 's', tenants));
    // Resolves every scope key once; they stay cached for the larger sizes.
    if (filled === 0) await keysWarm.findMany(sealedRead);
    filled = size;
    const runs = await sampleInterleaved(planFor(size), {
      plain: { fn: () => readsAll(plain.findMany(plainRead), size) },
      cold: { fn: () => readsAll(encryptedClient(base, keyring, oneThread).users.findMany(sealedRead), size) },
      keysWarm: { fn: () => readsAll(keysWarm.findMany(sealedRead), size) },
    });
    plainMs.push(medianMs(runs.plain));
    coldMs.push(medianMs(runs.cold));
    keysWarmMs.push(medianMs(runs.keysWarm));
  }
  await truncateUsers(db);

  const perRow = sizes.map((size, i) => (coldMs[i] * 1000) / size);
  const steadyPerRow = sizes.map((size, i) => (keysWarmMs[i] * 1000) / size);
  const addedPerRow = sizes.map((size, i) => ((keysWarmMs[i] - plainMs[i]) * 1000) / size);
  const spreadFactor = Math.max(...steadyPerRow) / Math.min(...steadyPerRow);
  return {
    table: {
      title: 'findMany scaling',
      columns: [
        'rows',
        'plain',
        'plain per row',
        'hushfield cold',
        'cold per row',
        'hushfield keys warm',
        'keys warm per row',
        'added per row (keys warm)',
        'keys warm / plain',
      ],
      rows: sizes.map((size, i) => [
        count(size),
        ms(plainMs[i]),
        us((plainMs[i] * 1000) / size),
        ms(coldMs[i]),
        us(perRow[i]),
        ms(keysWarmMs[i]),
        us(steadyPerRow[i]),
        us(addedPerRow[i]),
        ratio(keysWarmMs[i] / plainMs[i]),
      ]),
      notes: [
        'Rows are inserted with SQL (untimed): plaintext as it is, hushfield rows sealed as the extension writes them (`bench/lib/seed-users.ts`); the table grows between sizes.',
        'Plaintext and sealed rows (as many of each as the size) share the table, each read selecting its own by name (`where: { name: { startsWith } }`), so every read scans both.',
        'Cold: a fresh `FieldCrypto` per run (scope keys from the key store and keyring, every DEK unwrapped); its per-row cost includes that one-off key resolution, which weighs most at 1,000 rows.',
        `Medians of ${sizes.map((size) => `${planFor(size).runs} runs at ${count(size)} rows`).join(', ')}; plain, cold and keys-warm runs alternate.`,
        'Keys warm: one `FieldCrypto` with scope keys cached and the DEK cache off (`dekCache: false`), so every row still unwraps its DEK: the steady cost per row. Flatness is judged on it.',
      ],
    },
    target: {
      target: `findMany cost per row flat from ${count(sizes[0])} to ${count(sizes[sizes.length - 1])} rows (keys warm, max/min per row within ${FLAT_WITHIN}×)`,
      measured: `${sizes.map((s, i) => `${count(s)}: ${us(steadyPerRow[i])}`).join(', ')} (max/min ${ratio(spreadFactor)})`,
      met: spreadFactor <= FLAT_WITHIN,
    },
  };
}
