import { createTestDatabase } from '../../test/support/database';
import { plainClient, plainUsers, truncateUsers } from '../lib/prisma-clients';
import { plainUserInputs } from '../lib/fixtures';
async function main(): Promise<void> {
  const db = await createTestDatabase();
  const base = plainClient(db);
  const plain = plainUsers(base);
  await truncateUsers(db);
  let i = 0;
  let fired = 0;
  const t0 = performance.now();
  for (const row of plainUserInputs(0, 300, 'x', 10)) {
    await plain.create({ data: row });
    i++;
    if (i % 50 === 0) { const j = i; setImmediate(() => { fired++; console.log('immediate from', j, 'fired at', i); }); }
  }
  console.log('loop done', i, 'fired', fired, (performance.now() - t0).toFixed(0), 'ms');
  for (let k = 0; k < 300; k++) { await db.query('SELECT 1'); i++; if (k === 100) setImmediate(() => console.log('pg imm fired at', i)); }
  console.log('pg loop done');
  await base.$disconnect();
  await db.close();
}
void main();
