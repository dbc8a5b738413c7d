/**
 * The naive envelope baseline of the KMS benchmark: what a team without a key hierarchy
 * writes. Every row gets a fresh DEK wrapped by the KMS (`Encrypt`) on write and unwrapped by
 * the KMS (`Decrypt`) on read, one call after another. Values are AES-256-GCM under the DEK,
 * each stored as `wrappedDek.ciphertext` in base64; index columns are HMAC-SHA256.
 */
import { randomBytes } from 'node:crypto';
import type { Keyring } from '@hushfield/core';
import type { PrismaClient } from '../../prisma/generated/client/client';
import type { KmsEmulator } from '../../test/kms/emulator';
import type { TestDatabase } from '../../test/support/database';
import { bareHmac, bareOpen, bareSeal } from '../lib/bare-crypto';
import { CountingKeyring, totalCalls } from '../lib/counting-keyring';
import { chunks, userInputs } from '../lib/fixtures';
import { median, timeOnce, type RunPlan } from '../lib/measure';
import { plainUsers, truncateUsers } from '../lib/prisma-clients';

/** What {@link runNaive} needs. */
export interface NaiveOptions {
  readonly db: TestDatabase;
  readonly base: PrismaClient;
  readonly keyring: Keyring;
  readonly emulator: KmsEmulator;
  readonly rows: number;
  readonly plan: RunPlan;
}

/** Medians of the naive runs and the calls of the last one. */
export interface NaiveResult {
  readonly writeMs: number;
  readonly readMs: number;
  readonly writeCalls: number;
  readonly readCalls: number;
  readonly kmsRequests: Record<string, number>;
}

const CONTEXT = { purpose: 'bench/naive-row-dek' };
const AAD = Buffer.from('bench/naive');

function seal(dek: Buffer, wrapped: string, value: string): string {
  return `${wrapped}.${bareSeal(dek, Buffer.from(value, 'utf8'), AAD).toString('base64')}`;
}

function open(dek: Buffer, stored: string): string {
  return bareOpen(dek, Buffer.from(stored.slice(stored.indexOf('.') + 1), 'base64'), AAD).toString('utf8');
}

/** Writes then reads `rows` rows the naive way, `plan` times. */
export async function runNaive(options: NaiveOptions): Promise<NaiveResult> {
  const { db, base, rows, plan } = options;
  const keyring = new CountingKeyring(options.keyring);
  const users = plainUsers(base);
  const indexKey = randomBytes(32);
  const writes: number[] = [];
  const reads: number[] = [];
  let calls = { write: 0, read: 0, requests: {} as Record<string, number> };

  for (let run = 0; run < plan.warmup + plan.runs; run += 1) {
    await truncateUsers(db);
    keyring.reset();
    options.emulator.calls.reset();
    const data = userInputs(0, rows, `naive-${run}`, 1);
    const writeMs = await timeOnce(async () => {
      for (const part of chunks(data, 1_000)) {
        const sealed = [];
        for (const row of part) {
          const dek = randomBytes(32);
          const wrapped = (await keyring.wrapKey(dek, CONTEXT)).toString('base64');
          sealed.push({
            tenantId: row.tenantId,
            name: row.name,
            email: seal(dek, wrapped, row.email),
            emailIdx: bareHmac(indexKey, row.email.trim().toLowerCase()),
            ssn: seal(dek, wrapped, row.ssn),
            ssnIdx: bareHmac(indexKey, row.ssn.replace(/\D/g, '')).slice(0, 4),
            notes: seal(dek, wrapped, row.notes),
          });
          dek.fill(0);
        }
        await users.createMany({ data: sealed });
      }
    });
    const writeCalls = totalCalls(keyring.calls);
    keyring.reset();
    const emails = new Set(data.map((row) => row.email));
    const readMs = await timeOnce(async () => {
      const stored = (await users.findMany()) as { email: string; ssn: string; notes: string }[];
      for (const row of stored) {
        const dek = await keyring.unwrapKey(Buffer.from(row.email.slice(0, row.email.indexOf('.')), 'base64'), CONTEXT);
        const email = open(dek, row.email);
        open(dek, row.ssn);
        open(dek, row.notes);
        dek.fill(0);
        if (!emails.has(email)) throw new Error('naive baseline read back a wrong value');
      }
    });
    if (run >= plan.warmup) {
      writes.push(writeMs);
      reads.push(readMs);
      calls = { write: writeCalls, read: totalCalls(keyring.calls), requests: options.emulator.calls.snapshot() };
    }
  }
  await truncateUsers(db);
  return {
    writeMs: median(writes),
    readMs: median(reads),
    writeCalls: calls.write,
    readCalls: calls.read,
    kmsRequests: calls.requests,
  };
}
