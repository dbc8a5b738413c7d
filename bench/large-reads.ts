/**
 * `pnpm exec tsx --tsconfig bench/tsconfig.json bench/large-reads.ts`: what sharing a large
 * `decryptMany` with the decrypt thread (`parallelDecrypt`) changes, for 10,000 rows × 3 values
 * in 10 scopes, cold (a new `FieldCrypto`: keys from the key store, every DEK unwrapped) and
 * warm (the same instance again: DEKs cached), with the thread and without it, alternated, 15
 * rounds each. Per case, medians of: wall time; CPU time of the whole process (every thread,
 * `process.cpuUsage`), so that spreading the work shows as what it costs in all; and the
 * longest stretch the calling thread's event loop was held (the longest gap between two ticks
 * of a 1 ms interval). Numbers go to bench/FINDINGS.md by hand.
 */
// First: the packages are measured as built (dist/), so the build is brought up to date.
import './lib/built';
import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring, MemoryKeyStore, type DecryptItem } from '@hushfield/core';

const ROWS = 10_000;
const SCOPES = 10;
const ROUNDS = 15;
const keyring = new LocalKeyring(randomBytes(32));
const keyStore = new MemoryKeyStore();

const make = (parallel: boolean) =>
  new FieldCrypto({
    keyring,
    keyStore,
    cache: { ttlMs: 600_000 },
    parallelDecrypt: parallel ? { minValues: 4096 } : false,
  });

async function sealed(): Promise<DecryptItem[]> {
  const writer = make(false);
  const out: DecryptItem[] = [];
  for (let r = 0; r < ROWS; r++) {
    const scope = `tenant-${r % SCOPES}`;
    const row = await writer.rowEncryptor(scope);
    for (const field of ['email', 'ssn', 'notes']) {
      const ctx = { model: 'User', field, rowId: `row-${r}` };
      // Flat strings, as a driver returns them (not the concatenations `encrypt` builds).
      const value = Buffer.from(row.encrypt(`${field} of row ${r}`, ctx)).toString();
      out.push({ value, ctx: { ...ctx, scope } });
    }
    row.dispose();
  }
  return out;
}

interface Sample {
  wallMs: number;
  cpuMs: number;
  heldMs: number;
}

async function timed(crypto: FieldCrypto, items: readonly DecryptItem[]): Promise<Sample> {
  // The longest gap between two ticks of a 1 ms interval: how long the loop was held at once.
  let heldMs = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    heldMs = Math.max(heldMs, now - last);
    last = now;
  }, 1);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const out = await crypto.decryptMany(items);
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  // One more tick, so the last stretch is seen.
  await new Promise((resolve) => setTimeout(resolve, 3));
  clearInterval(ticker);
  if (out.some((value) => typeof value !== 'string')) throw new Error('a value failed to decrypt');
  return { wallMs, cpuMs: (used.user + used.system) / 1000, heldMs };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const items = await sealed();
  await make(true).startDecryptThread();
  const cases = ['one thread, cold', 'two threads, cold', 'one thread, warm', 'two threads, warm'];
  const samples = new Map<string, Sample[]>(cases.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS + 2; round++) {
    // Each round starts with the other mode, so neither always follows the other's garbage.
    for (const parallel of round % 2 === 0 ? [false, true] : [true, false]) {
      const crypto = make(parallel);
      const mode = parallel ? 'two threads' : 'one thread';
      const cold = await timed(crypto, items);
      const warm = await timed(crypto, items);
      if (round < 2) continue; // warm-up
      samples.get(`${mode}, cold`)!.push(cold);
      samples.get(`${mode}, warm`)!.push(warm);
    }
  }
  console.log('| case | wall ms | CPU ms (all threads) | event loop held, longest ms |\n|---|---:|---:|---:|');
  for (const [name, list] of samples) {
    const row = [
      median(list.map((s) => s.wallMs)),
      median(list.map((s) => s.cpuMs)),
      median(list.map((s) => s.heldMs)),
    ];
    console.log(`| ${name} | ${row.map((value) => value.toFixed(1)).join(' | ')} |`);
  }
}

void main();
