/**
 * crypto: one value through hushfield's envelope against the bare AES-256-GCM calls the design
 * needs for it, and against @47ng/cloak (the engine of prisma-field-encryption); blind-index
 * computation against a bare HMAC-SHA256. No database.
 */
import { randomBytes } from 'node:crypto';
import {
  decryptString,
  decryptStringSync,
  encryptString,
  encryptStringSync,
  generateKey,
  parseKeySync,
} from '@47ng/cloak';
import { FieldCrypto, LocalKeyring, MemoryKeyStore, type BlindIndexSpec, type FieldContext } from '@hushfield/core';
import { sealTyped, typedItems, typedPlain, type EncryptedFieldMeta } from '@hushfield/prisma';
import { bareHmac, bareOpen, bareSeal } from '../lib/bare-crypto';
import { median, timeOnce, type RunPlan } from '../lib/measure';
import { bytes, ratio, us, type Section } from '../lib/report';

/** Sizes and repetitions; the defaults are the published benchmark. */
export interface CryptoBenchOptions {
  readonly sizes?: readonly number[];
  /** Batches per case: warm-up batches discarded, median of the rest reported. */
  readonly plan?: RunPlan;
  /** Roughly how long one batch should take; the op count per batch is calibrated to it. */
  readonly batchMs?: number;
  readonly log?: (line: string) => void;
}

const DEFAULT_SIZES = [16, 256, 4096, 1024 * 1024];
const JSON_FIELD: EncryptedFieldMeta = {
  name: 'profile',
  dbName: 'profile',
  mode: 'strict',
  optional: false,
  type: 'Json',
};
const BYTES_FIELD: EncryptedFieldMeta = {
  name: 'scan',
  dbName: 'scan',
  mode: 'strict',
  optional: false,
  type: 'Bytes',
};

/** A JSON document of at least `size` bytes serialized (a few dozen more): nested objects, arrays, numbers, text. */
function jsonDocument(size: number): object {
  const items: object[] = [];
  const doc = { id: 'a1b2c3', active: true, score: 12.5, tags: ['x', 'y'], items };
  while (JSON.stringify(doc).length < size) items.push({ n: items.length, label: input(16), at: [items.length, -1.5] });
  return doc;
}
const CTX: FieldContext = { model: 'users', field: 'notes', rowId: '7d1f5c2e-3b7a-4a51-9d0c-2f6f0f3b9a11' };
const SPEC: BlindIndexSpec = {
  model: 'users',
  field: 'email',
  name: 'email_idx',
  normalize: ['lowercase', 'trim'],
  bits: 256,
};

/** A printable string of exactly `size` UTF-8 bytes. */
function input(size: number): string {
  return randomBytes(Math.ceil((size * 3) / 4) + 3)
    .toString('base64')
    .slice(0, size);
}

type Op = () => unknown;

/**
 * Microseconds per op for each of `ops`: batch sizes calibrated to about `batchMs`, batches of
 * the cases interleaved (so load from elsewhere hits all alike), median over measured batches.
 */
async function perOp(ops: readonly Op[], plan: RunPlan, batchMs: number): Promise<number[]> {
  const counts: number[] = [];
  for (const op of ops) {
    const probe = await timeOnce(async () => {
      for (let i = 0; i < 3; i += 1) await op();
    });
    counts.push(Math.max(3, Math.min(50_000, Math.round((batchMs * 3) / Math.max(probe, 0.001)))));
  }
  const batches: number[][] = ops.map(() => []);
  for (let batch = 0; batch < plan.warmup + plan.runs; batch += 1) {
    for (let k = 0; k < ops.length; k += 1) {
      const op = ops[k];
      const elapsed = await timeOnce(async () => {
        for (let i = 0; i < counts[k]; i += 1) await op();
      });
      if (batch >= plan.warmup) batches[k].push((elapsed * 1000) / counts[k]);
    }
  }
  return batches.map(median);
}

/** Runs the crypto benchmark. */
export async function runCryptoBench(options: CryptoBenchOptions = {}): Promise<Section> {
  const sizes = options.sizes ?? DEFAULT_SIZES;
  const plan = options.plan ?? { warmup: 2, runs: 7 };
  const batchMs = options.batchMs ?? 200;
  const log = options.log ?? (() => undefined);

  // dekCache off: every decrypt unwraps its DEK, as the floor does. Scope and index keys warm.
  const crypto = new FieldCrypto({
    keyring: new LocalKeyring(randomBytes(32)),
    keyStore: new MemoryKeyStore(),
    cache: { ttlMs: 60 * 60_000 },
    dekCache: false,
  });
  const scopeKey = randomBytes(32);
  const indexKey = randomBytes(32);
  const aad = Buffer.from('hushfield/v1|users|notes|0123456789abcdef|7d1f5c2e-3b7a-4a51-9d0c-2f6f0f3b9a11');
  const cloakKey = parseKeySync(generateKey());

  const valueRows: string[][] = [];
  const indexRows: string[][] = [];
  const ratios: number[] = [];
  for (const size of sizes) {
    const plaintext = input(size);
    const check = (out: string): void => {
      if (out !== plaintext) throw new Error(`round trip changed a ${size}-byte value`);
    };
    const envelope = async (): Promise<void> => {
      const encryptor = await crypto.rowEncryptor('default');
      const stored = encryptor.encrypt(plaintext, CTX);
      encryptor.dispose();
      check(await crypto.decrypt(stored, CTX));
    };
    const bare = (): void => {
      const dek = randomBytes(32);
      const wrappedDek = bareSeal(scopeKey, dek, aad);
      const sealed = bareSeal(dek, Buffer.from(plaintext, 'utf8'), aad);
      const unwrapped = bareOpen(scopeKey, wrappedDek, aad);
      check(bareOpen(unwrapped, sealed, aad).toString('utf8'));
    };
    const cloakSync = (): void => check(decryptStringSync(encryptStringSync(plaintext, cloakKey), cloakKey));
    const cloakAsync = async (): Promise<void> =>
      check(await decryptString(await encryptString(plaintext, cloakKey), cloakKey));

    log(`crypto: ${bytes(size)} values`);
    await envelope(); // creates the scope key: warm from here on
    const [floorUs, envelopeUs, cloakSyncUs, cloakAsyncUs] = await perOp(
      [bare, envelope, cloakSync, cloakAsync],
      plan,
      batchMs,
    );
    const encryptor = await crypto.rowEncryptor('default');
    const storedLength = Buffer.byteLength(encryptor.encrypt(plaintext, CTX));
    encryptor.dispose();
    const cloakLength = Buffer.byteLength(encryptStringSync(plaintext, cloakKey));
    ratios.push(envelopeUs / floorUs);
    valueRows.push([
      bytes(size),
      us(floorUs),
      us(envelopeUs),
      ratio(envelopeUs / floorUs),
      us(cloakSyncUs),
      us(cloakAsyncUs),
      `${storedLength - size} B / ${cloakLength - size} B`,
    ]);

    if ((await crypto.blindIndex(SPEC, plaintext)).length === 0) throw new Error('empty blind index');
    const [hmacUs, indexUs] = await perOp(
      [() => bareHmac(indexKey, plaintext.trim().toLowerCase()), () => crypto.blindIndex(SPEC, plaintext)],
      plan,
      batchMs,
    );
    indexRows.push([bytes(size), us(hmacUs), us(indexUs), ratio(indexUs / hmacUs)]);
  }

  const typedRows = await typedValueRows(crypto, scopeKey, aad, plan, batchMs, log);

  const worst = Math.max(...ratios);
  return {
    id: 'crypto',
    title: 'crypto: one value, envelope vs bare AES-256-GCM vs @47ng/cloak',
    command: 'pnpm bench crypto',
    intro:
      'Encrypt + decrypt of one string value, time per value (median of batches). **Floor**: the ' +
      'bare `node:crypto` calls the design needs — a fresh 256-bit DEK, its AES-256-GCM wrap under ' +
      'the scope key, the value encrypted under the DEK, then the DEK unwrap and the value ' +
      'decrypt (associated data supplied, UTF-8 conversion included, no envelope, no base64). ' +
      '**hushfield**: `FieldCrypto.rowEncryptor(scope)` + `encrypt` + `dispose` + `decrypt` with ' +
      'the scope key warm and the DEK cache off, so every decrypt unwraps its DEK. **cloak**: ' +
      '`@47ng/cloak` 1.2 with a parsed key (one key, no DEK, no associated data): the sync calls ' +
      'are what prisma-field-encryption uses, the async ones go through WebCrypto.',
    tables: [
      {
        title: 'Value encrypt + decrypt, per value',
        columns: [
          'size',
          'floor (bare)',
          'hushfield',
          'hushfield / floor',
          'cloak sync',
          'cloak async',
          'stored overhead hushfield / cloak',
        ],
        rows: valueRows,
        notes: [
          'Stored overhead: bytes the stored string adds to the plaintext (UTF-8 length of stored value − plaintext length).',
        ],
      },
      {
        title: 'Blind index, per value (normalize lowercase+trim, HMAC-SHA256, full length)',
        columns: ['size', 'bare HMAC-SHA256 (+normalize)', 'hushfield blindIndex', 'ratio'],
        rows: indexRows,
        notes: [
          'hushfield: `FieldCrypto.blindIndex(spec, value)` with the index key warm (derived key cached after first use).',
        ],
      },
      {
        title: 'Json and Bytes values, encrypt + decrypt, per value',
        columns: ['value', 'floor (bare)', 'hushfield', 'hushfield / floor', 'stored overhead'],
        rows: typedRows,
        notes: [
          'Json floor: `JSON.stringify`, the bare DEK wrap and value seal, the unwrap and open, `JSON.parse`. hushfield: ' +
            "`@hushfield/prisma`'s `sealTyped` (the JSON text sealed as one text envelope, bound as `json`) and " +
            '`typedItems` + `FieldCrypto.decrypt` + `typedPlain`, as the extension does.',
          'Bytes floor: the bare calls on the bytes. hushfield: `RowEncryptor.encryptBytes` (binary envelope, no ' +
            'base64) and `FieldCrypto.decryptBytes`. Stored overhead: stored bytes (JSON string or binary) − plaintext bytes.',
        ],
      },
    ],
    targets: [
      {
        target: 'value encrypt+decrypt ≤ 1.5× the bare calls (DEK unwrap included)',
        measured: `worst ${ratio(worst)} (${sizes.map((s, i) => `${bytes(s)}: ${ratio(ratios[i])}`).join(', ')})`,
        met: worst <= 1.5,
      },
    ],
  };
}

/** Json (1 KiB document) and Bytes (4 KiB, 1 MiB) values through hushfield against the bare calls. */
async function typedValueRows(
  crypto: FieldCrypto,
  scopeKey: Buffer,
  aad: Buffer,
  plan: RunPlan,
  batchMs: number,
  log: (line: string) => void,
): Promise<string[][]> {
  const rows: string[][] = [];
  const doc = jsonDocument(1024);
  const docText = JSON.stringify(doc);
  const jsonCtx: FieldContext = { ...CTX, field: 'profile' };
  const sameDoc = (out: unknown): void => {
    if (JSON.stringify(out) !== docText) throw new Error('round trip changed a Json value');
  };
  const bareJson = (): void => {
    const dek = randomBytes(32);
    const wrappedDek = bareSeal(scopeKey, dek, aad);
    const sealed = bareSeal(dek, Buffer.from(JSON.stringify(doc), 'utf8'), aad);
    sameDoc(JSON.parse(bareOpen(bareOpen(scopeKey, wrappedDek, aad), sealed, aad).toString('utf8')));
  };
  const envelopeJson = async (): Promise<void> => {
    const encryptor = await crypto.rowEncryptor('default');
    const stored = sealTyped(encryptor, JSON_FIELD, doc, jsonCtx);
    encryptor.dispose();
    const [item] = typedItems(JSON_FIELD, stored, jsonCtx);
    sameDoc(typedPlain(JSON_FIELD, [await crypto.decrypt(item.value as string, item.ctx)]));
  };
  log('crypto: Json 1 KiB document');
  await envelopeJson();
  const [jsonFloor, jsonUs] = await perOp([bareJson, envelopeJson], plan, batchMs);
  const jsonEncryptor = await crypto.rowEncryptor('default');
  const jsonStored = JSON.stringify(sealTyped(jsonEncryptor, JSON_FIELD, doc, jsonCtx));
  jsonEncryptor.dispose();
  rows.push([
    `Json, ${bytes(docText.length)} document`,
    us(jsonFloor),
    us(jsonUs),
    ratio(jsonUs / jsonFloor),
    `${jsonStored.length - docText.length} B`,
  ]);

  const bytesCtx: FieldContext = { ...CTX, field: 'scan' };
  for (const size of [4096, 1024 * 1024]) {
    const data = randomBytes(size);
    const same = (out: Uint8Array): void => {
      if (!Buffer.from(out.buffer, out.byteOffset, out.byteLength).equals(data))
        throw new Error(`round trip changed ${size} bytes`);
    };
    const bareBytes = (): void => {
      const dek = randomBytes(32);
      const wrappedDek = bareSeal(scopeKey, dek, aad);
      const sealed = bareSeal(dek, data, aad);
      same(bareOpen(bareOpen(scopeKey, wrappedDek, aad), sealed, aad));
    };
    const envelopeBytes = async (): Promise<void> => {
      const encryptor = await crypto.rowEncryptor('default');
      const stored = sealTyped(encryptor, BYTES_FIELD, data, bytesCtx) as Buffer;
      encryptor.dispose();
      same(await crypto.decryptBytes(stored, bytesCtx));
    };
    log(`crypto: Bytes ${bytes(size)}`);
    await envelopeBytes();
    const [floorUs, bytesUs] = await perOp([bareBytes, envelopeBytes], plan, batchMs);
    const encryptor = await crypto.rowEncryptor('default');
    const storedLength = encryptor.encryptBytes(data, bytesCtx).length;
    encryptor.dispose();
    rows.push([
      `Bytes, ${bytes(size)}`,
      us(floorUs),
      us(bytesUs),
      ratio(bytesUs / floorUs),
      `${storedLength - size} B`,
    ]);
  }
  return rows;
}
