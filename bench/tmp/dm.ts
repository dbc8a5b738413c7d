import { randomBytes, randomUUID } from 'node:crypto';
import { FieldCrypto, LocalKeyring, MemoryKeyStore, type DecryptItem } from '@hushfield/core';
import { userInputs } from '../lib/fixtures';
import { bareReadRow, bareWriteRow } from '../lib/bare-crypto';

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
  const scopeKey = randomBytes(32);
  const aad = Buffer.from('hushfield/v1|users|email|0123456789abcdef|7d1f5c2e-3b7a-4a51-9d0c-2f6f0f3b9a11');
  const bare = rows.map((row) => bareWriteRow(scopeKey, [row.email, row.ssn, row.notes], aad));
  const cold: number[] = [], floor: number[] = [], ratio: number[] = [];
  for (let r = 0; r < 25; r++) {
    const fresh = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 3600_000 } });
    const copy = items.map((it) => ({ value: it.value, ctx: { ...it.ctx } }));
    let u = process.cpuUsage();
    const out = await fresh.decryptMany(copy);
    const cu = process.cpuUsage(u); const c = (cu.user + cu.system) / 1000;
    if (typeof out[0] !== 'string') throw new Error('fail');
    u = process.cpuUsage();
    for (const b of bare) bareReadRow(scopeKey, b, aad);
    const fu = process.cpuUsage(u); const f = (fu.user + fu.system) / 1000;
    if (r >= 3) { cold.push(c); floor.push(f); ratio.push(c / f); }
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  console.log('decryptMany cold ms', med(cold).toFixed(1), 'floor ms', med(floor).toFixed(1), 'ratio', med(ratio).toFixed(3), 'min', Math.min(...ratio).toFixed(3));
}
void main();
