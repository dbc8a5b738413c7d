import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector';
import { LocalKeyring } from '@hushfield/core';
import { createTestDatabase } from '../../test/support/database';
import { encryptedClient, plainClient, truncateUsers } from '../lib/prisma-clients';
import { userInputs } from '../lib/fixtures';
import { insertEncryptedUsers } from '../lib/seed-users';
import { hotSpots } from '../lib/cpu-profile';
function post<T>(session: Session, method: string): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, (e, r) => (e ? reject(e) : resolve(r as T))));
}
async function main(): Promise<void> {
  const db = await createTestDatabase();
  const base = plainClient(db);
  const keyring = new LocalKeyring(randomBytes(32));
  await truncateUsers(db);
  await insertEncryptedUsers(db, encryptedClient(base, keyring, { dekCache: false }).crypto, userInputs(0, 10_000, 'r', 10));
  for (let i = 0; i < 3; i++) await encryptedClient(base, keyring).users.findMany();
  const session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.start');
  const t0 = performance.now();
  const N = 15;
  for (let i = 0; i < N; i++) await encryptedClient(base, keyring).users.findMany();
  const ms = (performance.now() - t0) / N;
  const profile = (await post<{ profile: object }>(session, 'Profiler.stop')).profile;
  session.disconnect();
  console.log('cold findMany ms', ms.toFixed(1));
  for (const h of hotSpots(profile).slice(0, 45)) console.log(`${(h.selfMs / N).toFixed(1).padStart(6)} ${(h.totalMs / N).toFixed(1).padStart(6)}  ${h.where.slice(0, 110)}`);
  await base.$disconnect();
  await db.close();
}
void main();
