import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@hushfield/core';
import { createTestDatabase } from '../../test/support/database';
import { encryptedClient, plainClient, truncateUsers } from '../lib/prisma-clients';
import { userInputs } from '../lib/fixtures';
async function main(): Promise<void> {
  const db = await createTestDatabase();
  const base = plainClient(db);
  const { users, crypto } = encryptedClient(base, new LocalKeyring(randomBytes(32)));
  await truncateUsers(db);
  let i = 0;
  setImmediate(() => console.log('immediate fired at create', i));
  setTimeout(() => console.log('timeout fired at create', i), 1);
  for (const row of userInputs(0, 500, 'x', 10)) { await users.create({ data: row }); i++; if (i === 250) { const j = i; setImmediate(() => console.log('immediate from', j, 'fired at', i)); setTimeout(() => console.log('timeout from', j, 'fired at', i), 0); } }
  console.log('loop done');
  console.log(crypto.stats());
  await base.$disconnect();
  await db.close();
}
void main();
