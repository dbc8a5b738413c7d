import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring } from '@hushfield/core';
import { fieldEncryption, PrismaKeyStore } from '@hushfield/prisma';
import { hushfieldSchema } from '../../prisma/generated/hushfield';
import { createTestDatabase } from '../../test/support/database';
import { plainClient, plainUsers, truncateUsers, type UserOps } from '../lib/prisma-clients';
import { plainUserInputs, userInputs } from '../lib/fixtures';

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const base = plainClient(db);
  const keyring = new LocalKeyring(randomBytes(32));
  const plain = plainUsers(base);
  const mk = (dekPool: false | undefined) => {
    const crypto = new FieldCrypto({ keyring, keyStore: new PrismaKeyStore(base), cache: { ttlMs: 3600_000 }, ...(dekPool === false ? { dekPool } : {}) });
    return (base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring, crypto })) as any).user as UserOps;
  };
  const pool = mk(undefined);
  const nopool = mk(false);
  const N = 200;
  const cases: [string, (run: number) => Promise<void>][] = [
    ['plain', async (r) => { for (const row of plainUserInputs(0, N, `a${r}`, 10)) await plain.create({ data: row }); }],
    ['pool', async (r) => { for (const row of userInputs(0, N, `c${r}`, 10)) await pool.create({ data: row }); }],
    ['nopool', async (r) => { for (const row of userInputs(0, N, `d${r}`, 10)) await nopool.create({ data: row }); }],
  ];
  await truncateUsers(db);
  for (const [, fn] of cases) await fn(-1);
  const res = new Map<string, number[][]>(cases.map(([n]) => [n, []]));
  for (let r = 0; r < Number(process.env.ROUNDS ?? 15); r++) {
    if (r % 5 === 0) await truncateUsers(db);
    for (const [name, fn] of cases) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await fn(r);
      const c = process.cpuUsage(c0);
      res.get(name)!.push([((performance.now() - t0) * 1000) / N, c.user / N, c.system / N]);
    }
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  for (const [name] of cases) {
    const rows = res.get(name)!;
    console.log(name.padEnd(8), ['wall', 'user', 'sys'].map((k, i) => `${k} ${med(rows.map((x) => x[i])).toFixed(0)}`).join('  '));
  }
  const plainW = res.get('plain')!.map((x) => x[0]);
  for (const n of ['pool', 'nopool']) console.log(n, 'paired ratio', med(res.get(n)!.map((x, i) => x[0] / plainW[i])).toFixed(3));
  await base.$disconnect();
  await db.close();
}
void main();
