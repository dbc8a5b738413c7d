/**
 * A separate process claiming ranges of a run until none is left (run-dialects.test.ts):
 * `node --import tsx claim-child.ts <provider> <url> <run> <owner>`. Prints the sequence
 * numbers it claimed, as JSON, on stdout, after `ready` (it starts claiming on a line on stdin).
 * Each claimed range is marked done after 10 ms of "work".
 */
import { RunStore } from '../../packages/cli/src/run-store';
import type { BasePrismaClient } from '../../packages/cli/src/config';

async function main(): Promise<void> {
  const [provider, url, runId, owner] = process.argv.slice(2);
  let client: BasePrismaClient;
  if (provider === 'postgresql') {
    const { PrismaPg } = await import('@prisma/adapter-pg');
    const { PrismaClient } = await import('../../prisma/generated/client/client');
    client = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as BasePrismaClient;
  } else if (provider === 'mysql') {
    const { PrismaMariaDb } = await import('@prisma/adapter-mariadb');
    const { PrismaClient } = await import('../../prisma/mysql/generated/client/client');
    client = new PrismaClient({ adapter: new PrismaMariaDb(url) }) as unknown as BasePrismaClient;
  } else {
    const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3');
    const { PrismaClient } = await import('../../prisma/sqlite/generated/client/client');
    client = new PrismaClient({
      adapter: new PrismaBetterSqlite3({ url, timeout: 30_000 }),
    }) as unknown as BasePrismaClient;
  }
  const store = new RunStore(client);
  await store.get(runId); // connected
  // Ready: wait for the parent's go (a line on stdin), so that the claimers start together.
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const claimed: number[] = [];
  for (;;) {
    const range = await store.claim(runId, owner, 30);
    if (!range) break;
    claimed.push(range.seq);
    await new Promise((resolve) => setTimeout(resolve, 10)); // the range's work
    await store.save(range, owner, null, range.rows, { startedAt: new Date().toISOString(), pending: [] }, 'done');
  }
  process.stdout.write(`${JSON.stringify(claimed)}\n`);
  await (client as unknown as { $disconnect(): Promise<void> }).$disconnect();
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
