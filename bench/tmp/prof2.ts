import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector';
import { LocalKeyring } from '@hushfield/core';
import { createTestDatabase } from '../../test/support/database';
import { encryptedClient, plainClient, plainUsers, truncateUsers } from '../lib/prisma-clients';
import { plainUserInputs, userInputs } from '../lib/fixtures';
import { hotSpots } from '../lib/cpu-profile';

function post<T>(session: Session, method: string): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, (e, r) => (e ? reject(e) : resolve(r as T))));
}
async function main(): Promise<void> {
  const which = process.argv[2];
  const db = await createTestDatabase();
  const base = plainClient(db);
  const keyring = new LocalKeyring(randomBytes(32));
  const plain = plainUsers(base);
  const enc = encryptedClient(base, keyring).users;
  const N = 3000;
  const run = async (r: number) => {
    if (which === 'plain') for (const row of plainUserInputs(0, N, `a${r}`, 10)) await plain.create({ data: row });
    else for (const row of userInputs(0, N, `c${r}`, 10)) await enc.create({ data: row });
  };
  await truncateUsers(db);
  await run(-1);
  const session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.start');
  const c0 = process.cpuUsage();
  await run(1);
  const c = process.cpuUsage(c0);
  const profile = (await post<{ profile: object }>(session, 'Profiler.stop')).profile;
  session.disconnect();
  console.log(which, 'cpu µs/create', ((c.user + c.system) / N).toFixed(0));
  for (const h of hotSpots(profile, process.env.FILTER ? new RegExp(process.env.FILTER) : undefined).slice(0, Number(process.env.TOP ?? 30))) console.log(JSON.stringify(h));
  await base.$disconnect();
  await db.close();
}
void main();
