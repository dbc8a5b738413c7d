/**
 * What the key hierarchy asks of a keyring: `rows` User rows written through hushfield over
 * `scopes` scopes (tenantId) from an empty key store, read back by a second client with fresh
 * caches ("cold", as another process would), then once more by that client ("warm"). Counts
 * the keyring calls of each phase and times it. Shared by the `kms` and `keyrings` benchmarks.
 */
import type { Keyring } from '@hushfield/core';
import type { PrismaClient } from '../../prisma/generated/client/client';
import type { TestDatabase } from '../../test/support/database';
import { CountingKeyring, totalCalls } from './counting-keyring';
import { chunks, userInputs } from './fixtures';
import { timeOnce } from './measure';
import { encryptedClient, truncateUsers } from './prisma-clients';

/** One run's times and keyring calls, by phase. */
export interface KeyringPhases {
  writeMs: number;
  coldReadMs: number;
  warmReadMs: number;
  writeCalls: number;
  coldReadCalls: number;
  warmReadCalls: number;
}

/** Writes then reads `rows` rows over `scopes` scopes through `keyring`; see the module comment. */
export async function measureKeyringPhases(
  db: TestDatabase,
  base: PrismaClient,
  keyring: Keyring,
  scopes: number,
  rows: number,
  tag: string,
): Promise<KeyringPhases> {
  // A clean slate each run: no rows, no scope keys, so the write creates them.
  await truncateUsers(db);
  await db.query('TRUNCATE hushfield_keys');
  const counting = new CountingKeyring(keyring);
  const data = userInputs(0, rows, tag, scopes);
  const writer = encryptedClient(base, counting);
  const writeMs = await timeOnce(async () => {
    for (const part of chunks(data, 1_000)) await writer.users.createMany({ data: part });
  });
  const writeCalls = totalCalls(counting.calls);
  counting.reset();
  const reader = encryptedClient(base, counting);
  let read: Record<string, unknown>[] = [];
  const coldReadMs = await timeOnce(async () => {
    read = await reader.users.findMany();
  });
  if (read.length !== rows || read[0].email === undefined || String(read[0].email).indexOf('@') < 0) {
    throw new Error('the read did not return the rows written');
  }
  const coldReadCalls = totalCalls(counting.calls);
  counting.reset();
  const warmReadMs = await timeOnce(() => reader.users.findMany());
  const warmReadCalls = totalCalls(counting.calls);
  return { writeMs, coldReadMs, warmReadMs, writeCalls, coldReadCalls, warmReadCalls };
}

/**
 * The key hierarchy's promise, checked on one run: at most one keyring call per key in use
 * (one scope key per scope plus the blind-index key) when writing and when reading cold, and
 * none when reading warm.
 */
export function withinOneCallPerKey(phases: KeyringPhases, scopes: number): boolean {
  const allowed = scopes + 1;
  return phases.writeCalls <= allowed && phases.coldReadCalls <= allowed && phases.warmReadCalls === 0;
}
