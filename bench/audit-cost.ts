/**
 * `pnpm exec tsx --tsconfig bench/tsconfig.json bench/audit-cost.ts`: what per-value decrypt
 * audit (`auditDecrypts`, sampled or not) and OpenTelemetry cost on a warm `decryptMany` of
 * 10,000 values (DEK cache on, so the crypto floor is one AES-GCM open per value). Cases run
 * alternately, median of 25 rounds each; the OTel SDK is installed last (it cannot be removed).
 * Numbers go to bench/FINDINGS.md by hand.
 */
// First: the packages are measured as built (dist/), so the build is brought up to date.
import './lib/built';
import { randomBytes } from 'node:crypto';
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { BatchingAuditSink, FieldCrypto, LocalKeyring, MemoryKeyStore, type DecryptItem } from '@hushfield/core';

const N = 10_000;
const ROUNDS = 25;
const keyring = new LocalKeyring(randomBytes(32));
const keyStore = new MemoryKeyStore();

async function items(crypto: FieldCrypto): Promise<DecryptItem[]> {
  const out: DecryptItem[] = [];
  for (let n = 0; n < N; n++) {
    const row = await crypto.rowEncryptor('default');
    const ctx = { model: 'users', field: 'email', rowId: `r${n}` };
    out.push({ value: row.encrypt(`user${n}@example.com`, ctx), ctx });
    row.dispose();
  }
  return out;
}

function make(auditDecrypts?: boolean | { sample: number }, sink?: 'sync' | 'batching'): FieldCrypto {
  const audit =
    sink === 'sync'
      ? { emit: () => undefined }
      : sink === 'batching'
        ? new BatchingAuditSink(async () => undefined, { maxQueue: 1_000_000, batchSize: 500 })
        : undefined;
  return new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 600_000 }, audit, auditDecrypts });
}

async function main(): Promise<void> {
  const cases: [string, FieldCrypto][] = [
    ['no audit sink', make()],
    ['sink, auditDecrypts off', make(undefined, 'sync')],
    ['sink, auditDecrypts { sample: 0.01 }', make({ sample: 0.01 }, 'sync')],
    ['sink, auditDecrypts true', make(true, 'sync')],
    ['BatchingAuditSink, auditDecrypts true', make(true, 'batching')],
  ];
  const data = await items(cases[0][1]);
  const run = async (crypto: FieldCrypto): Promise<number> => {
    const started = performance.now();
    await crypto.decryptMany(data);
    return performance.now() - started;
  };
  const measure = async (list: [string, FieldCrypto][]): Promise<Map<string, number[]>> => {
    const times = new Map<string, number[]>(list.map(([name]) => [name, []]));
    for (const [, crypto] of list) await run(crypto); // warm: keys and DEKs cached
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, crypto] of list) times.get(name)!.push(await run(crypto));
    }
    return times;
  };
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const report = (times: Map<string, number[]>, base: number) => {
    for (const [name, values] of times) {
      const ms = median(values);
      console.log(`| ${name} | ${ms.toFixed(2)} | ${((ms * 1000) / N).toFixed(3)} | ${(ms / base).toFixed(2)}× |`);
    }
  };
  console.log('| case | ms / 10,000 values | µs / value | vs no audit sink |\n|---|---|---|---|');
  const first = await measure(cases);
  const base = median(first.get('no audit sink')!);
  report(first, base);
  // With the OpenTelemetry SDK installed: the per-value counter becomes real work.
  class Reader extends MetricReader {
    protected async onForceFlush(): Promise<void> {}
    protected async onShutdown(): Promise<void> {}
  }
  trace.setGlobalTracerProvider(new BasicTracerProvider());
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new Reader()] }));
  const sdk = await measure([
    ['no audit sink, OTel SDK installed', make()],
    ['no audit sink (again)', cases[0][1]],
  ]);
  report(sdk, base);
}

void main();
