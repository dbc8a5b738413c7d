import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@hushfield/core';
import { PrismaClient } from '../../prisma/generated/client/client';
import { createTestDatabase } from '../../test/support/database';
import { encryptedClient, truncateUsers, plainUsers } from '../lib/prisma-clients';
import { plainUserInputs, userInputs } from '../lib/fixtures';

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const queries: string[] = [];
  const base = new PrismaClient({ adapter: db.adapter(), log: [{ emit: 'event', level: 'query' }] });
  (base as any).$on('query', (e: { query: string }) => queries.push(e.query));
  const keyring = new LocalKeyring(randomBytes(32));
  const enc = encryptedClient(base, keyring).users;
  const plain = plainUsers(base);
  await truncateUsers(db);
  for (const row of userInputs(0, 20, 'w', 10)) await enc.create({ data: row });
  const id = (await plain.create({ data: plainUserInputs(0, 1, 'x', 1)[0] })).id;
  queries.length = 0;
  await plain.create({ data: plainUserInputs(5, 1, 'y', 1)[0] });
  console.log('PLAIN CREATE', queries);
  queries.length = 0;
  const r = await enc.create({ data: userInputs(7, 1, 'z', 10)[0] });
  console.log('ENC CREATE', queries);
  queries.length = 0;
  await enc.findUnique({ where: { email: userInputs(7, 1, 'z', 10)[0].email } });
  console.log('ENC FINDUNIQUE', queries);
  queries.length = 0;
  await enc.update({ where: { id: r.id }, data: { notes: 'n' } });
  console.log('ENC UPDATE', queries);
  queries.length = 0;
  await plain.update({ where: { id }, data: { notes: 'n' } });
  console.log('PLAIN UPDATE', queries);
  await base.$disconnect();
  await db.close();
}
void main();
