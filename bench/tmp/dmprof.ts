import { randomBytes, randomUUID } from 'node:crypto';
import { Session } from 'node:inspector';
import { FieldCrypto, LocalKeyring, MemoryKeyStore, type DecryptItem } from '@hushfield/core';
import { userInputs } from '../lib/fixtures';
import { hotSpots } from '../lib/cpu-profile';
function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r as T))));
}
async function main(): Promise<void> {
  const keyring = new LocalKeyring(randomBytes(32));
  const keyStore = new MemoryKeyStore();
  const sealer = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 3600_000 }, dekCache: false });
  const rows = userInputs(0, 10_000, 'r', 10);
  const items: DecryptItem[] = [];
  for (const row of rows) {
    const id = randomUUID();
    const enc = await sealer.rowEncryptor(row.tenantId);
    for (const f of ['email', 'ssn', 'notes'] as const) items.push({ value: enc.encrypt(row[f], { model: 'users', field: f, rowId: id }), ctx: { model: 'users', field: f, rowId: id } });
    enc.dispose();
  }
  const run = async () => { const fresh = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 3600_000 } }); await fresh.decryptMany(items); };
  for (let i = 0; i < 3; i++) await run();
  const session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: 100 });
  await post(session, 'Profiler.start');
  const N = 20;
  for (let i = 0; i < N; i++) await run();
  const profile = (await post<{ profile: object }>(session, 'Profiler.stop')).profile;
  for (const h of hotSpots(profile).slice(0, 40)) console.log(`${(h.selfMs / N).toFixed(1).padStart(6)} ${(h.totalMs / N).toFixed(1).padStart(6)}  ${h.where.slice(0, 100)}`);
}
void main();
