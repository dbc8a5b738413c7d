import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@hushfield/core';
import { createTestDatabase } from '../../test/support/database';
import { encryptedClient, plainClient, plainUsers, truncateUsers, type UserOps } from '../lib/prisma-clients';
import { plainUserInputs, userInputs } from '../lib/fixtures';

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const base = plainClient(db);
  const keyring = new LocalKeyring(randomBytes(32));
  const plain = plainUsers(base);
  const enc = encryptedClient(base, keyring).users;
  const noop = (base.$extends({ query: { $allModels: { $allOperations: ({ args, query }) => query(args) } } }) as any).user as UserOps;
  const N = 200;
  const cases: [string, (run: number) => Promise<void>][] = [
    ['plain', async (r) => { for (const row of plainUserInputs(0, N, `a${r}`, 10)) await plain.create({ data: row }); }],
    ['noop-ext', async (r) => { for (const row of plainUserInputs(0, N, `b${r}`, 10)) await noop.create({ data: row }); }],
    ['hushfield', async (r) => { for (const row of userInputs(0, N, `c${r}`, 10)) await enc.create({ data: row }); }],
  ];
  await truncateUsers(db);
  for (const [, fn] of cases) await fn(-1);
  const cpu = new Map<string, number[]>(cases.map(([n]) => [n, []]));
  const wall = new Map<string, number[]>(cases.map(([n]) => [n, []]));
  for (let r = 0; r < Number(process.env.ROUNDS ?? 15); r++) {
    if (r % 5 === 0) await truncateUsers(db);
    for (const [name, fn] of cases) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await fn(r);
      const c = process.cpuUsage(c0);
      wall.get(name)!.push(((performance.now() - t0) * 1000) / N);
      cpu.get(name)!.push((c.user + c.system) / N);
    }
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  for (const [name] of cases) console.log(name.padEnd(10), 'wall µs', med(wall.get(name)!).toFixed(0), 'cpu µs', med(cpu.get(name)!).toFixed(0));
  await base.$disconnect();
  await db.close();
}
void main();
