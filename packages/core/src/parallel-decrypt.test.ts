import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AuditEvent } from './audit';
import {
  DecryptionError,
  EnvelopeFormatError,
  HushfieldError,
  InvalidArgumentError,
  KeyDestroyedError,
} from './errors';
import { FieldCrypto, type DecryptItem } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';
import { parallelMinValues, splitForThread, takeThreadResult } from './parallel-decrypt';
import { DecryptThread, decryptThread, startThread, type ReadyFlag } from './thread-host';
import type { ResolvedKey } from './decrypt-keys';
import { openJob, type OpenJob, type OpenResult } from './thread-open';

/** `rows` rows of fields a, b, c, row r sealed under scope `scopes[r % scopes.length]` and read with that scope. */
async function written(rows: number, scopes: string[]) {
  const keyring = new LocalKeyring(randomBytes(32));
  const keyStore = new MemoryKeyStore();
  const writer = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 }, parallelDecrypt: false });
  const items: DecryptItem[] = [];
  for (let r = 0; r < rows; r++) {
    const scope = scopes[r % scopes.length];
    const row = await writer.rowEncryptor(scope);
    for (const field of ['a', 'b', 'c']) {
      const ctx = { model: 'users', field, rowId: `r${r}` };
      items.push({ value: row.encrypt(`${field}${r}`, ctx), ctx: { ...ctx, scope } });
    }
    row.dispose();
  }
  const expected = items.map((item) => `${item.ctx.field}${item.ctx.rowId!.slice(1)}`);
  const reader = (parallelDecrypt: { minValues: number } | false) =>
    new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 }, parallelDecrypt });
  return { writer, keyring, keyStore, items, expected, reader };
}

/** Each result as a comparable value: the text, or the error's class, code and message. */
function shapes(results: readonly unknown[]) {
  return results.map((value) =>
    value instanceof HushfieldError ? [value.constructor.name, value.code, value.message] : value,
  );
}

/** Whether every byte of `bytes` is zero (and it has any). */
function zeroed(bytes: ArrayBufferLike | Uint8Array): boolean {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return view.length > 0 && view.every((byte) => byte === 0);
}

/** An empty job with the shared buffers a split allocates: `keys` scope keys, room for `values` DEKs. */
function emptyJob(keys: number, values: number): OpenJob {
  return {
    values: [],
    models: [],
    fields: [],
    rowIds: [],
    scopes: [],
    kinds: [],
    keyIds: [],
    keyScopes: [],
    keyBytes: new SharedArrayBuffer(keys * 32),
    dekBytes: new SharedArrayBuffer(values * 32),
  };
}

/** One character of the sealed part (after the last `$`) changed. */
function tampered(envelope: string): string {
  const at = envelope.length - 5;
  return envelope.slice(0, at) + (envelope[at] === 'A' ? 'B' : 'A') + envelope.slice(at + 1);
}

describe('parallelMinValues', () => {
  it('is off when false, takes a given minimum, refuses a bad one', () => {
    expect(parallelMinValues(false)).toBeUndefined();
    expect(parallelMinValues({ minValues: 10 })).toBe(10);
    expect(parallelMinValues({})).toBe(4096);
    expect(() => parallelMinValues({ minValues: 1 })).toThrow(/parallelDecrypt.minValues/);
    expect(() => parallelMinValues({ minValues: 2.5 })).toThrow(/parallelDecrypt.minValues/);
    expect(() => parallelMinValues(null as never)).toThrow(/parallelDecrypt/);
  });
});

describe('splitForThread', () => {
  const key = (scope: string): ResolvedKey => ({ key: randomBytes(32), scope });

  it('gives the thread text values from the middle on and keeps bytes, list elements and the first half', () => {
    const text = (i: number) => ({ value: `v${i}`, ctx: { model: 'm', field: 'f' } });
    const items = [
      ...[0, 1, 2, 3].map(text),
      { value: 'v4', ctx: { model: 'm', field: 'f', rowId: 'r', scope: 's' } },
      { value: new Uint8Array(3), ctx: { model: 'm', field: 'g', kind: 'bytes' as const } },
      { value: 'v6', ctx: { model: 'm', field: 'h', kind: 'list' as const, index: 0, count: 1 } },
      { value: 'v7', ctx: { model: 'm', field: 'j', kind: 'json' as const } },
    ];
    const keys = new Map<string, ResolvedKey>([
      ['k$1', key('s')],
      ['k$2', { error: new Error('gone') }],
    ]);
    const split = splitForThread(items, [...items.keys()], keys)!;
    expect(split.ownIndexes).toEqual([0, 1, 2, 3, 5, 6]);
    expect(split.threadIndexes).toEqual([4, 7]);
    expect(split.job).toMatchObject({
      values: ['v4', 'v7'],
      models: ['m', 'm'],
      fields: ['f', 'j'],
      rowIds: ['r', null],
      scopes: ['s', null],
      kinds: [null, 'json'],
      keyIds: ['k$1'],
      keyScopes: ['s'],
    });
    expect(split.job.keyBytes).toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.from(split.job.keyBytes)).toEqual(keys.get('k$1')!.key);
    // Room for a DEK per value, the most the thread can unwrap.
    expect(split.job.dekBytes).toBeInstanceOf(SharedArrayBuffer);
    expect(split.job.dekBytes.byteLength).toBe(2 * 32);
  });

  it('does not split when the thread would get fewer than two values', () => {
    const items = [
      { value: 'v0', ctx: { model: 'm', field: 'f' } },
      { value: 'v1', ctx: { model: 'm', field: 'f' } },
      { value: new Uint8Array(3), ctx: { model: 'm', field: 'g', kind: 'bytes' as const } },
    ];
    expect(splitForThread(items, [0, 1, 2], new Map())).toBeUndefined();
    expect(splitForThread([...items, items[1], items[1]], [0, 1, 2, 3, 4], new Map())?.threadIndexes).toEqual([3, 4]);
  });

  it('splits only the values at the indexes given, the second half of them to the thread', () => {
    const items = ['v0', 'v1', 'v2', 'v3', 'v4', 'v5'].map((value) => ({ value, ctx: { model: 'm', field: 'f' } }));
    const split = splitForThread(items, [1, 2, 4, 5], new Map())!;
    expect(split.ownIndexes).toEqual([1, 2]);
    expect(split.threadIndexes).toEqual([4, 5]);
    expect(split.job.values).toEqual(['v4', 'v5']);
  });
});

describe('openJob (what the decrypt thread runs), in process', () => {
  // The thread's part runs here: `run` calls openJob in place of posting the job.
  beforeEach(() => jest.spyOn(decryptThread, 'available').mockReturnValue(true));
  afterEach(() => jest.restoreAllMocks());

  it('opens what authenticates, leaves the rest for the caller, and the shared keys and DEKs end zeroed', async () => {
    const { items, expected, reader } = await written(6, ['s1', 's2']);
    // Seven values for the calling thread, then seven for the thread's share.
    const list: DecryptItem[] = [
      ...items.slice(0, 7),
      items[7],
      { value: tampered(items[8].value as string), ctx: items[8].ctx },
      // Row 3's value read as row 2's: its associated data names another row.
      { value: items[9].value, ctx: items[7].ctx },
      // Row 3 (scope s2) read as a row of another scope.
      { value: items[10].value, ctx: { ...items[10].ctx, scope: 'elsewhere' } },
      { value: 'hfe$1$nonsense', ctx: items[11].ctx },
      { value: items[11].value, ctx: { ...items[11].ctx, model: '' } },
      items[12],
    ];
    const seen: { job: OpenJob; keys: Buffer; deks: Buffer; result: OpenResult }[] = [];
    jest.spyOn(decryptThread, 'run').mockImplementation((job) => {
      const keys = Buffer.from(Buffer.from(job.keyBytes));
      const result = openJob(job);
      seen.push({ job, keys, deks: Buffer.from(Buffer.from(job.dekBytes)), result });
      return Promise.resolve(result);
    });
    const results = await reader({ minValues: 2 }).decryptMany(list);
    expect(seen).toHaveLength(1);
    const [{ job, keys, deks, result }] = seen;
    expect(job.values).toEqual(list.slice(7).map((item) => item.value));
    expect(result.plain).toEqual([expected[7], null, null, null, null, null, expected[12]]);
    // One DEK per row unwrapped (rows 2, 3 and 4), each named once, in the first three slots.
    expect(result.dekIds).toHaveLength(3);
    expect(new Set(result.dekIds).size).toBe(3);
    for (let d = 0; d < 7; d++) expect(zeroed(deks.subarray(d * 32, (d + 1) * 32))).toBe(d >= 3);
    expect(keys.some((byte) => byte !== 0)).toBe(true);
    expect(zeroed(job.keyBytes)).toBe(true);
    expect(zeroed(job.dekBytes)).toBe(true);
    // The caller decrypted the rest itself: each failure typed, in place, as without the thread.
    expect(shapes(results)).toEqual(shapes(await reader(false).decryptMany(list)));
    expect(results.slice(0, 8)).toEqual(expected.slice(0, 8));
    expect(results[8]).toBeInstanceOf(DecryptionError);
    expect(results[9]).toBeInstanceOf(DecryptionError);
    expect((results[10] as DecryptionError).otherScope).toBe('elsewhere');
    expect(results[11]).toBeInstanceOf(EnvelopeFormatError);
    expect(results[12]).toBeInstanceOf(InvalidArgumentError);
    expect(results[13]).toBe(expected[12]);
  });

  it('decrypts the whole share on the calling thread when the thread fails during the job', async () => {
    const { items, expected, reader } = await written(10, ['s1']);
    jest.spyOn(decryptThread, 'run').mockImplementation(() => Promise.resolve(undefined));
    expect(await reader({ minValues: 2 }).decryptMany(items)).toEqual(expected);
  });

  it('counts the DEK hits of a warm read as one thread does when the thread fails during the job', async () => {
    const { items, expected, reader } = await written(10, ['s1']);
    const alone = reader(false);
    const shared = reader({ minValues: 2 });
    const run = jest.spyOn(decryptThread, 'run').mockImplementation((job) => Promise.resolve(openJob(job)));
    for (const crypto of [alone, shared]) expect(await crypto.decryptMany(items)).toEqual(expected);
    run.mockImplementation(() => Promise.resolve(undefined));
    for (const crypto of [alone, shared]) expect(await crypto.decryptMany(items)).toEqual(expected);
    expect(shared.stats()).toMatchObject({ dekHits: alone.stats().dekHits, dekMisses: alone.stats().dekMisses });
  });

  it("zeroes the DEKs the thread wrote when the calling thread's own pass throws", async () => {
    const { items, reader } = await written(10, ['s1']);
    const answers: OpenResult[] = [];
    const jobs: OpenJob[] = [];
    jest.spyOn(decryptThread, 'run').mockImplementation((job) => {
      jobs.push(job);
      const answer = openJob(job);
      answers.push(answer);
      return Promise.resolve(answer);
    });
    // Warm: its keys cached, the next call is shared before the calling thread's pass.
    const crypto = reader({ minValues: 2 });
    await crypto.decryptMany(items);
    jobs.length = 0;
    answers.length = 0;
    // An item whose context cannot even be read: the calling thread's pass throws on it.
    const hostile = Object.defineProperty({ value: items[0].value }, 'ctx', {
      get: () => {
        throw new Error('no context');
      },
    }) as DecryptItem;
    await expect(crypto.decryptMany([hostile, ...items.slice(1)])).rejects.toThrow('no context');
    expect(answers[0].dekIds.length).toBeGreaterThan(0);
    expect(zeroed(jobs[0].dekBytes)).toBe(true);
    expect(zeroed(jobs[0].keyBytes)).toBe(true);
  });

  it('keeps for the calling thread every context it would refuse: a null row id or scope, a stray index', async () => {
    const { items, reader } = await written(10, ['s1', 's2']);
    const odd: DecryptItem[] = items.map((item, i) => {
      if (i === 20) return { value: item.value, ctx: { ...item.ctx, scope: null as unknown as string } };
      if (i === 23) return { value: item.value, ctx: { ...item.ctx, rowId: null as unknown as string } };
      if (i === 26) return { value: item.value, ctx: { ...item.ctx, index: 0, count: 1 } };
      if (i === 29) return { value: item.value, ctx: { ...item.ctx, kind: 'json' as const, index: 0 } };
      if (i === 18) return { value: item.value, ctx: { ...item.ctx, count: 1 } };
      return item;
    });
    const jobs: OpenJob[] = [];
    jest.spyOn(decryptThread, 'run').mockImplementation((job) => {
      jobs.push(job);
      return Promise.resolve(openJob(job));
    });
    const split = await reader({ minValues: 2 }).decryptMany(odd);
    expect(jobs[0].values).not.toContain(items[20].value);
    expect(jobs[0].values).toHaveLength(10);
    expect(shapes(split)).toEqual(shapes(await reader(false).decryptMany(odd)));
    for (const i of [18, 20, 23, 26, 29]) expect(split[i]).toBeInstanceOf(InvalidArgumentError);
  });

  // Two guards hold this: the DEK cache's generation, and the destroyed key's remaining TTL (0).
  it('caches no DEK the thread unwrapped when a scope key was destroyed during the call', async () => {
    const { items, reader } = await written(10, ['s1', 's2']);
    const crypto = reader({ minValues: 2 });
    jest.spyOn(decryptThread, 'run').mockImplementation(async (job) => {
      const result = openJob(job);
      // Destroyed through the reader's own key admin, so its caches hear of it.
      await crypto.keys.destroyScope('s2');
      return result;
    });
    await crypto.decryptMany(items);
    jest.restoreAllMocks();
    // A row of scope s2 in the thread's half (row 9): its DEK must not open it from the cache now
    // (read without naming the row's scope, so only the DEK cache could open it).
    expect(items[27].ctx.scope).toBe('s2');
    const unscoped = { ...items[27].ctx, scope: undefined };
    await expect(crypto.decrypt(items[27].value as string, unscoped)).rejects.toBeInstanceOf(KeyDestroyedError);
  });
});

describe('a split read asks the key store what one thread asks it', () => {
  // The thread's part runs here: `run` calls openJob in place of posting the job.
  beforeEach(() => {
    jest.spyOn(decryptThread, 'available').mockReturnValue(true);
    jest.spyOn(decryptThread, 'run').mockImplementation((job) => Promise.resolve(openJob(job)));
  });
  afterEach(() => jest.restoreAllMocks());

  /**
   * Rows of scopes s1, s2 and s3, and readers whose key cache holds one key: s1's rows read
   * without naming their scope, then s2's naming it, then s3's, leave the DEKs of s1's and
   * s2's rows cached and only s3's key (as many scopes in use as keys cached would).
   */
  async function evicted() {
    const { items, expected, keyring, keyStore } = await written(30, ['s1', 's2', 's3']);
    const read = items.map((item) =>
      item.ctx.scope === 's1' ? { value: item.value, ctx: { ...item.ctx, scope: undefined } } : item,
    );
    const of = (scope: string) => read.filter((_, i) => items[i].ctx.scope === scope);
    const reader = async (parallelDecrypt: { minValues: number } | false) => {
      const crypto = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000, maxEntries: 1 }, parallelDecrypt });
      for (const scope of ['s1', 's2', 's3']) await crypto.decryptMany(of(scope));
      return crypto;
    };
    const expectedOf = (scope: string) => expected.filter((_, i) => items[i].ctx.scope === scope);
    return { keyStore, of, expectedOf, reader };
  }

  /** What one read of `list` gives, and the key-store lookups and keyring calls it made. */
  async function lookups(crypto: FieldCrypto, keyStore: MemoryKeyStore, list: DecryptItem[]) {
    const one = jest.spyOn(keyStore, 'getVersion');
    const many = jest.spyOn(keyStore, 'getVersions');
    const { keyringCalls } = crypto.stats();
    const results = shapes(await crypto.decryptMany(list));
    const made = {
      keyStore: one.mock.calls.length + many.mock.calls.length,
      keyring: crypto.stats().keyringCalls - keyringCalls,
    };
    one.mockRestore();
    many.mockRestore();
    return { results, made };
  }

  it('looks up no scope key, as one thread does not, when every row it names has its DEK cached', async () => {
    const { keyStore, of, expectedOf, reader } = await evicted();
    const alone = await lookups(await reader(false), keyStore, of('s1'));
    const split = await lookups(await reader({ minValues: 2 }), keyStore, of('s1'));
    expect(alone).toEqual({ results: expectedOf('s1'), made: { keyStore: 0, keyring: 0 } });
    expect(split).toEqual(alone);
  });

  it('reads every value while the key store fails, as one thread does, without asking it', async () => {
    const { keyStore, of, expectedOf, reader } = await evicted();
    for (const parallelDecrypt of [false, { minValues: 2 }] as const) {
      const crypto = await reader(parallelDecrypt);
      const one = jest.spyOn(keyStore, 'getVersion').mockRejectedValue(new Error('key store down'));
      const many = jest.spyOn(keyStore, 'getVersions').mockRejectedValue(new Error('key store down'));
      expect(await crypto.decryptMany(of('s1'))).toEqual(expectedOf('s1'));
      expect([one.mock.calls.length, many.mock.calls.length]).toEqual([0, 0]);
      one.mockRestore();
      many.mockRestore();
    }
  });

  it('does not wait for a key store that never answers, as one thread does not', async () => {
    const { keyStore, of, expectedOf, reader } = await evicted();
    const crypto = await reader({ minValues: 2 });
    const hang = () => new Promise<never>(() => undefined);
    jest.spyOn(keyStore, 'getVersion').mockImplementation(hang);
    jest.spyOn(keyStore, 'getVersions').mockImplementation(hang);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still waiting'), 2000)));
    const read = await Promise.race([crypto.decryptMany(of('s1')), gaveUp]);
    clearTimeout(timer);
    expect(read).toEqual(expectedOf('s1'));
  });

  it('looks up what one thread looks up when some rows need their key and others do not, in either order', async () => {
    const { keyStore, of, reader } = await evicted();
    // s1's rows need no key (unscoped, DEKs cached); s2's name their scope, which only the key confirms.
    for (const list of [
      [...of('s1'), ...of('s2')],
      [...of('s2'), ...of('s1')],
    ]) {
      const alone = await lookups(await reader(false), keyStore, list);
      const split = await lookups(await reader({ minValues: 2 }), keyStore, list);
      expect(alone.results.every((value) => typeof value === 'string')).toBe(true);
      expect(split).toEqual(alone);
    }
  });

  it('looks up no key that only a value refused before its key names, as one thread does not', async () => {
    const { items, keyStore, reader } = await written(20, ['s1']);
    // A stored value that is not an envelope, though it starts like one naming key `x`.
    const list = [...items.slice(0, 40), { value: 'hfe$1$x$1$notbase64', ctx: items[40].ctx }, ...items.slice(41)];
    const run = jest.mocked(decryptThread.run);
    const reads = [];
    for (const parallelDecrypt of [false, { minValues: 2 }] as const) {
      const crypto = reader(parallelDecrypt);
      await crypto.decryptMany(items);
      run.mockClear();
      reads.push(await lookups(crypto, keyStore, list));
    }
    expect(reads[0].made).toEqual({ keyStore: 0, keyring: 0 });
    expect(reads[1]).toEqual(reads[0]);
    expect(reads[1].results[40]).toEqual(expect.arrayContaining(['EnvelopeFormatError']));
    // A key not in the cache keeps the call on this thread until one thread's pass asks for it: never, here.
    expect(run).not.toHaveBeenCalled();
  });

  /** Rows of scope `scope` (fields a, b), sealed by `writer` and read with their scope when `scoped`. */
  async function rowsOf(writer: FieldCrypto, scope: string, tag: string, scoped: boolean): Promise<DecryptItem[]> {
    const items: DecryptItem[] = [];
    for (let r = 0; r < 10; r++) {
      const row = await writer.rowEncryptor(scope);
      for (const field of ['a', 'b']) {
        const ctx = { model: 'users', field, rowId: `${tag}${r}` };
        items.push({ value: row.encrypt(`${field}${tag}${r}`, ctx), ctx: scoped ? { ...ctx, scope } : ctx });
      }
      row.dispose();
    }
    return items;
  }

  it('asks what one thread asks after a rotation: a value of the old version vouches for the new', async () => {
    // One thread's pass, having checked the old version's key against the scope, opens the new
    // version's values by their cached DEKs without loading the new version's (evicted) key.
    const { writer, keyring, keyStore } = await written(0, []);
    const v1 = await rowsOf(writer, 's', 'x', true);
    await writer.keys.rotateScope('s');
    const v2 = await rowsOf(writer, 's', 'y', true);
    const reads = [];
    for (const parallelDecrypt of [false, { minValues: 2 }] as const) {
      const crypto = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000, maxEntries: 1 }, parallelDecrypt });
      await crypto.decryptMany(v2);
      await crypto.decryptMany(v1);
      const hang = () => new Promise<never>(() => undefined);
      const one = jest.spyOn(keyStore, 'getVersion').mockImplementation(hang);
      const many = jest.spyOn(keyStore, 'getVersions').mockImplementation(hang);
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still waiting'), 2000)));
      const read = await Promise.race([crypto.decryptMany([...v1, ...v2]), gaveUp]);
      clearTimeout(timer);
      reads.push({ read, asked: one.mock.calls.length + many.mock.calls.length });
      one.mockRestore();
      many.mockRestore();
    }
    expect(reads[0]).toEqual({ read: [...v1, ...v2].map((item) => `${item.ctx.field}${item.ctx.rowId}`), asked: 0 });
    expect(reads[1]).toEqual(reads[0]);
  });

  it('caches the DEKs one thread caches when one read names more keys than the key cache holds', async () => {
    const { writer, keyring, keyStore } = await written(0, []);
    const [a, b] = [await rowsOf(writer, 'A', 'a', false), await rowsOf(writer, 'B', 'b', false)];
    const made = [];
    for (const parallelDecrypt of [false, { minValues: 2 }] as const) {
      const crypto = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000, maxEntries: 1 }, parallelDecrypt });
      await crypto.decryptMany([a[0]]);
      // A's rows by A's cached key, their DEKs cached while it is; B's after loading B's key (evicting A's).
      await crypto.decryptMany([...a, ...b]);
      const before = crypto.stats();
      await crypto.decryptMany(a);
      const after = crypto.stats();
      made.push({ keyring: after.keyringCalls - before.keyringCalls, dekHits: after.dekHits - before.dekHits });
    }
    expect(made[0]).toEqual({ keyring: 0, dekHits: 10 });
    expect(made[1]).toEqual(made[0]);
  });

  it('still splits a read whose every scope key it needs is cached or needed', async () => {
    const { keyStore, of, expectedOf, reader } = await evicted();
    const crypto = await reader({ minValues: 2 });
    const run = jest.mocked(decryptThread.run);
    run.mockClear();
    // s3's key is cached; s2's rows name their scope, so its key is needed.
    const { results } = await lookups(crypto, keyStore, [...of('s2'), ...of('s3')]);
    expect(results).toEqual([...expectedOf('s2'), ...expectedOf('s3')]);
    expect(run).toHaveBeenCalledTimes(1);
  });
});

describe('takeThreadResult', () => {
  it("hands the cache each DEK the thread wrote in the job's shared buffer, by its slot", () => {
    const job = emptyJob(0, 3);
    const deks = new Uint8Array(job.dekBytes);
    deks.fill(9, 0, 32);
    deks.fill(8, 32, 64);
    const result: OpenResult = { plain: ['a', null], dekIds: ['d1', 'd2'] };
    const split = { job, threadIndexes: [4, 7], ownIndexes: [] };
    const out: unknown[] = [];
    const cached: Buffer[] = [];
    const opened: number[] = [];
    const retry = takeThreadResult(
      result,
      split,
      out,
      (i) => opened.push(i),
      (_id, dek) => cached.push(Buffer.from(dek)),
    );
    expect(retry).toEqual([7]);
    expect(out[4]).toBe('a');
    expect(opened).toEqual([4]);
    expect(cached).toEqual([Buffer.alloc(32, 9), Buffer.alloc(32, 8)]);
  });

  it('believes no more DEK ids than the shared buffer has slots', () => {
    const job = emptyJob(0, 2);
    const result: OpenResult = { plain: [null, null], dekIds: ['d1', 'd2', 'd3'] };
    const ids: string[] = [];
    takeThreadResult(
      result,
      { job, threadIndexes: [0, 1], ownIndexes: [] },
      [],
      () => undefined,
      (id, dek) => {
        expect(dek).toHaveLength(32);
        ids.push(id);
      },
    );
    expect(ids).toEqual(['d1', 'd2']);
  });
});

describe('FieldCrypto.decryptMany shared with the decrypt thread', () => {
  afterEach(() => jest.restoreAllMocks());

  it('gives exactly what the calling thread alone gives, failures included, and caches the DEKs', async () => {
    const { items, expected, reader } = await written(40, ['s1', 's2', 's3']);
    const mixed: DecryptItem[] = items.map((item, i) => {
      // Damage spread over both halves of the call.
      if (i % 17 === 5) return { value: tampered(item.value as string), ctx: item.ctx };
      if (i % 23 === 7) return { value: items[(i + 3) % items.length].value, ctx: item.ctx };
      if (i % 29 === 11) return { value: item.value, ctx: { ...item.ctx, scope: 'elsewhere' } };
      if (i % 31 === 13) return { value: 'hfe$1$x$1$notbase64', ctx: item.ctx };
      return item;
    });
    const alone = await reader(false).decryptMany(mixed);
    const shared = reader({ minValues: 2 });
    expect(await shared.startDecryptThread()).toBe(true);
    const run = jest.spyOn(decryptThread, 'run');
    const split = await shared.decryptMany(mixed);
    // The real thread took the second half and opened the values there that authenticate.
    const threadResult = (await run.mock.results[0].value) as OpenResult;
    const opened = threadResult.plain.filter((text) => typeof text === 'string');
    const intactInSecondHalf = mixed.slice(mixed.length / 2).filter((item, j) => item === items[mixed.length / 2 + j]);
    expect(opened).toHaveLength(intactInSecondHalf.length);
    expect(shapes(split)).toEqual(shapes(alone));
    const failures = split.filter((value) => value instanceof HushfieldError);
    expect(failures.length).toBeGreaterThanOrEqual(8);
    expect(failures.some((error) => error instanceof EnvelopeFormatError)).toBe(true);
    expect(failures.some((error) => error instanceof DecryptionError)).toBe(true);
    // Values the thread opened in the second half are there too, and their rows' DEKs were cached.
    expect(split.slice(-3)).toEqual(expected.slice(-3));
    // The last rows were the thread's: reading them one by one unwraps nothing.
    const { dekMisses, dekHits } = shared.stats();
    for (const item of items.slice(-9)) expect(await shared.decrypt(item.value as string, item.ctx)).toBeDefined();
    expect(shared.stats()).toMatchObject({ dekMisses, dekHits: dekHits + 9 });
  });

  it('leaves the shared key and DEK buffers of the job zeroed once the read is done', async () => {
    const { items, expected, reader } = await written(20, ['s1', 's2']);
    const shared = reader({ minValues: 2 });
    expect(await shared.startDecryptThread()).toBe(true);
    const run = jest.spyOn(decryptThread, 'run');
    expect(await shared.decryptMany(items)).toEqual(expected);
    const [[job]] = run.mock.calls;
    // The thread unwrapped its rows' DEKs (10 rows) into the DEK buffer, with two scope keys.
    expect(((await run.mock.results[0].value) as OpenResult).dekIds).toHaveLength(10);
    expect(job.keyBytes.byteLength).toBe(2 * 32);
    expect(zeroed(job.keyBytes)).toBe(true);
    expect(zeroed(job.dekBytes)).toBe(true);
  });

  it('counts DEK-cache hits and misses of a cold and a warm read as one thread does', async () => {
    const { items, expected, reader } = await written(20, ['s1', 's2']);
    const alone = reader(false);
    const shared = reader({ minValues: 2 });
    expect(await shared.startDecryptThread()).toBe(true);
    const run = jest.spyOn(decryptThread, 'run');
    for (let read = 0; read < 2; read++) {
      for (const crypto of [alone, shared]) expect(await crypto.decryptMany(items)).toEqual(expected);
      const { dekHits, dekMisses } = alone.stats();
      expect(shared.stats()).toMatchObject({ dekHits, dekMisses });
    }
    expect(run.mock.results.filter((result) => result.value instanceof Promise)).toHaveLength(2);
  });

  it("fails a shredded scope's values with KeyDestroyedError in both halves", async () => {
    const { writer, items, reader } = await written(20, ['keep', 'shred']);
    const shared = reader({ minValues: 2 });
    expect(await shared.startDecryptThread()).toBe(true);
    await writer.keys.destroyScope('shred');
    const run = jest.spyOn(decryptThread, 'run');
    const results = await shared.decryptMany(items);
    // The thread opened the kept scope's values of its half, and none of the shredded one's.
    const threadResult = (await run.mock.results[0].value) as OpenResult;
    expect(threadResult.plain.filter((text) => typeof text === 'string')).toHaveLength(15);
    items.forEach((item, i) => {
      if (item.ctx.scope === 'shred') expect(results[i]).toBeInstanceOf(KeyDestroyedError);
      else expect(typeof results[i]).toBe('string');
    });
  });

  it('runs a second call made while the thread is busy on the calling thread, both correct', async () => {
    const { items, expected, reader } = await written(60, ['s1', 's2']);
    const shared = reader({ minValues: 2 });
    expect(await shared.startDecryptThread()).toBe(true);
    const run = jest.spyOn(decryptThread, 'run');
    const [first, second] = await Promise.all([shared.decryptMany(items), shared.decryptMany(items)]);
    // The first call's job taken; the second found the thread busy and ran here.
    expect(run.mock.results.map((result) => result.value instanceof Promise)).toEqual([true]);
    expect(first).toEqual(expected);
    expect(second).toEqual(expected);
  });

  it('never splits a call that audits each decrypt: every value emits its event', async () => {
    const { items, expected, keyring, keyStore } = await written(10, ['s1']);
    const events: AuditEvent[] = [];
    const audited = new FieldCrypto({
      keyring,
      keyStore,
      cache: { ttlMs: 60_000 },
      parallelDecrypt: { minValues: 2 },
      audit: { emit: (event) => void events.push(event) },
      auditDecrypts: true,
    });
    expect(await audited.startDecryptThread()).toBe(true);
    expect(await audited.decryptMany(items)).toEqual(expected);
    expect(events.filter((event) => event.operation === 'value.decrypt')).toHaveLength(items.length);
  });

  it('does not start a thread for an instance that never splits', async () => {
    const { reader } = await written(1, ['s1']);
    expect(await reader(false).startDecryptThread()).toBe(false);
  });
});

describe('the decrypt thread', () => {
  afterEach(() => jest.restoreAllMocks());

  it('zeroes the keys of a job it does not take (the thread busy or starting)', () => {
    jest.spyOn(decryptThread, 'available').mockReturnValue(false);
    const job = emptyJob(2, 2);
    new Uint8Array(job.keyBytes).fill(7);
    expect(decryptThread.run(job)).toBeUndefined();
    expect(zeroed(job.keyBytes)).toBe(true);
  });

  it('never keeps the process alive: started, idle, or after a job', () => {
    const source = join(__dirname, 'thread-host.ts');
    const script = (useIt: string) =>
      `const { decryptThread } = require(${JSON.stringify(source)});
       decryptThread.start().then(async (ready) => { ${useIt} console.log('ready', ready); });`;
    const job = `await decryptThread.run({ values: [], models: [], fields: [], rowIds: [], scopes: [], kinds: [],
       keyIds: [], keyScopes: [], keyBytes: new SharedArrayBuffer(0), dekBytes: new SharedArrayBuffer(0) });`;
    for (const useIt of ['', job]) {
      const child = spawnSync(process.execPath, ['-r', require.resolve('tsx/cjs'), '-e', script(useIt)], {
        timeout: 30_000,
        encoding: 'utf8',
      });
      expect({ status: child.status, signal: child.signal, out: child.stdout.trim() }).toEqual({
        status: 0,
        signal: null,
        out: 'ready true',
      });
    }
  }, 60_000);

  it('keeps a job it cannot send: its keys are zeroed here, and the thread takes the next job', async () => {
    expect(await decryptThread.start()).toBe(true);
    const job = { ...emptyJob(1, 1), values: [() => 'not cloneable'] } as unknown as OpenJob;
    new Uint8Array(job.keyBytes).fill(7);
    expect(decryptThread.run(job)).toBeUndefined();
    expect(zeroed(job.keyBytes)).toBe(true);
    expect(decryptThread.available()).toBe(true);
  });
});

describe('a decrypt thread that dies, hangs or answers late', () => {
  const workers: Worker[] = [];
  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(workers.splice(0).map((worker) => worker.terminate()));
  });

  /** A worker that says it is ready, then runs `onJob` (with `parentPort` and `job` in scope) on each job. */
  const fake = (onJob: string) => () => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.on('message', (job) => { ${onJob} });
       parentPort.postMessage('ready');`,
      { eval: true },
    );
    workers.push(worker);
    return worker;
  };

  /** Reads split with `thread` in place of the process's decrypt thread; returns the spy on `run`. */
  function readThrough(thread: DecryptThread) {
    for (const method of ['available', 'run', 'answer', 'end'] as const)
      jest.spyOn(decryptThread, method).mockImplementation(thread[method].bind(thread) as never);
    return jest.mocked(decryptThread.run);
  }

  /** `read`'s value, or 'still waiting' after `ms`. */
  async function within<T>(ms: number, read: Promise<T>): Promise<T | 'still waiting'> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'still waiting'>((resolve) => (timer = setTimeout(() => resolve('still waiting'), ms)));
    try {
      return await Promise.race([read, gaveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether `thread` takes jobs again within `ms`. */
  async function readyAgain(thread: DecryptThread, ms: number): Promise<boolean> {
    const until = performance.now() + ms;
    while (!thread.available() && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    return thread.available();
  }

  it.each([
    ['exits', 'process.exit(1);'],
    ['throws', "throw new Error('no');"],
  ])('reads every value and zeroes the keys the job held when the thread %s during the job', async (_, onJob) => {
    const thread = new DecryptThread(fake(onJob));
    expect(await thread.start()).toBe(true);
    const run = readThrough(thread);
    const { items, expected, reader } = await written(10, ['s1', 's2']);
    expect(await reader({ minValues: 2 }).decryptMany(items)).toEqual(expected);
    const [[job]] = run.mock.calls;
    expect(run.mock.results[0].value).toBeInstanceOf(Promise);
    // The thread's memory is gone; the keys it was given were this thread's to zero.
    expect(job.keyBytes.byteLength).toBe(2 * 32);
    expect(zeroed(job.keyBytes)).toBe(true);
    expect(zeroed(job.dekBytes)).toBe(true);
    expect(thread.available()).toBe(false);
  });

  /** The process's kind of thread (decrypt-thread.ts), its ready flag kept for this thread to wait on. */
  const real = () => {
    const started: { flag?: ReadyFlag } = {};
    const start = (ready: ReadyFlag) => {
      started.flag = ready;
      const worker = startThread(ready);
      workers.push(worker);
      return worker;
    };
    return { start, started };
  };

  /** Blocks this thread, its event loop unturned, until the thread's flag says it takes jobs. */
  const waitUnturned = (flag: ReadyFlag | undefined) => expect(Atomics.wait(flag!, 0, 0, 20_000)).not.toBe('timed-out');

  it("counts a thread ready once its flag says so, its 'ready' message still unread", async () => {
    // As an application on a synchronous driver (better-sqlite3) runs: its queries settle in
    // microtasks without the event loop turning, so the message saying the thread is ready waits.
    const { start, started } = real();
    const thread = new DecryptThread(start);
    expect(thread.available()).toBe(false); // starts it
    waitUnturned(started.flag);
    for (let i = 0; i < 100; i++) await Promise.resolve();
    expect(thread.available()).toBe(true);
    expect(await thread.start()).toBe(true);
  });

  it('shares a large read with a thread that became ready while the event loop did not turn', async () => {
    const { items, expected, reader } = await written(10, ['s1']);
    const crypto = reader({ minValues: 2 });
    const { start, started } = real();
    const thread = new DecryptThread(start);
    thread.available();
    waitUnturned(started.flag);
    const run = readThrough(thread);
    expect(await crypto.decryptMany(items)).toEqual(expected);
    expect(run).toHaveBeenCalledTimes(1);
    const [taken] = run.mock.results;
    expect(taken.value).toBeInstanceOf(Promise);
    const { plain } = (await taken.value) as OpenResult;
    expect(plain.filter((text) => typeof text === 'string')).toHaveLength(15);
  });

  it('is not stopped as failed to start when its start-up deadline falls due before its message is read', async () => {
    const { start, started } = real();
    const thread = new DecryptThread(start);
    jest.useFakeTimers();
    try {
      thread.available();
      waitUnturned(started.flag);
      jest.advanceTimersByTime(10_001);
    } finally {
      jest.useRealTimers();
    }
    expect(await thread.start()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(thread.available()).toBe(true);
    expect(workers[0].threadId).toBeGreaterThan(0);
  });

  it('reads every value of a large read made under fake timers while the thread starts', async () => {
    const { items, expected, reader } = await written(10, ['s1']);
    const thread = new DecryptThread(real().start);
    readThrough(thread);
    jest.useFakeTimers();
    try {
      expect(await reader({ minValues: 2 }).decryptMany(items)).toEqual(expected);
    } finally {
      jest.useRealTimers();
    }
    // Started by that read: left to finish starting, so that stopping it after the test is not
    // taken for a thread that failed to start (a process warning, said once per process).
    expect(await thread.start()).toBe(true);
  });

  it("takes a 'ready' said during a job for nothing: the thread stays busy with it", async () => {
    const thread = new DecryptThread(
      fake("parentPort.postMessage('ready'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);"),
    );
    expect(await thread.start()).toBe(true);
    const job = emptyJob(1, 2);
    const running = thread.run(job)!;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(thread.available()).toBe(false);
    thread.end(running, job);
    expect(await running).toBeUndefined();
  });

  it('reads every value by about the deadline when the thread hangs, and reads here while it is stuck', async () => {
    const thread = new DecryptThread(fake('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);'), 300);
    expect(await thread.start()).toBe(true);
    const run = readThrough(thread);
    const { items, expected, reader } = await written(10, ['s1']);
    const crypto = reader({ minValues: 2 });
    const started = performance.now();
    expect(await within(10_000, crypto.decryptMany(items))).toEqual(expected);
    const took = performance.now() - started;
    // The deadline, and a margin for a loaded machine: bounded, where it used to wait for ever.
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(5000);
    const [[job]] = run.mock.calls;
    expect(zeroed(job.keyBytes)).toBe(true);
    expect(zeroed(job.dekBytes)).toBe(true);
    // Still busy with the abandoned job: the next read is not given to it, and does not wait.
    expect(thread.available()).toBe(false);
    expect(await within(1000, crypto.decryptMany(items))).toEqual(expected);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('drops a late answer, zeroes what the thread wrote after the deadline, and gives it the next job', async () => {
    // The first job is answered 1.5 s late (well past its 200 ms deadline), with texts that must
    // not be taken, after DEK bytes are written into its buffer (as DEKs unwrapped after the
    // caller zeroed it would be); later jobs at once, with nothing opened.
    const thread = new DecryptThread(
      fake(`const nothing = () => parentPort.postMessage({ plain: job.values.map(() => null), dekIds: [] });
            if (globalThis.answered) return nothing();
            globalThis.answered = true;
            setTimeout(() => {
              new Uint8Array(job.dekBytes).fill(9);
              parentPort.postMessage({ plain: job.values.map(() => 'late'), dekIds: [] });
            }, 1500);`),
      200,
    );
    expect(await thread.start()).toBe(true);
    const run = readThrough(thread);
    const { items, expected, reader } = await written(10, ['s1']);
    const crypto = reader({ minValues: 2 });
    expect(await within(5000, crypto.decryptMany(items))).toEqual(expected);
    expect(thread.available()).toBe(false);
    expect(await readyAgain(thread, 5000)).toBe(true);
    const [[late]] = run.mock.calls;
    expect(zeroed(late.dekBytes)).toBe(true);
    expect(await crypto.decryptMany(items)).toEqual(expected);
    expect(run.mock.results.map((result) => result.value instanceof Promise)).toEqual([true, true]);
  });

  it('does not keep the process alive while it is stuck in an abandoned job', () => {
    const source = join(__dirname, 'thread-host.ts');
    const stuck = `const { parentPort } = require('node:worker_threads');
      parentPort.on('message', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));
      parentPort.postMessage('ready');`;
    const script = `const { Worker } = require('node:worker_threads');
      const { DecryptThread } = require(${JSON.stringify(source)});
      const thread = new DecryptThread(() => new Worker(${JSON.stringify(stuck)}, { eval: true }), 100);
      thread.start().then(async (ready) => {
        const job = { values: ['a', 'b'], models: ['m', 'm'], fields: ['f', 'f'], rowIds: [null, null],
          scopes: [null, null], kinds: [null, null], keyIds: [], keyScopes: [],
          keyBytes: new SharedArrayBuffer(0), dekBytes: new SharedArrayBuffer(64) };
        const running = thread.run(job);
        const answer = await thread.answer(running, 0);
        thread.end(running, job);
        console.log(ready, answer, thread.available());
      });`;
    const child = spawnSync(process.execPath, ['-r', require.resolve('tsx/cjs'), '-e', script], {
      timeout: 20_000,
      encoding: 'utf8',
    });
    expect({ status: child.status, signal: child.signal, out: child.stdout.trim() }).toEqual({
      status: 0,
      signal: null,
      out: 'true undefined false',
    });
  }, 30_000);
});

describe('a decrypt thread that fails', () => {
  it('answers its pending job with nothing, takes no more jobs, and reports that it cannot start', async () => {
    expect(await decryptThread.start()).toBe(true);
    // Not a job: openJob throws outside its per-value guard and the thread dies with it.
    const running = decryptThread.run({ keyBytes: new SharedArrayBuffer(32) } as OpenJob);
    expect(running).toBeInstanceOf(Promise);
    expect(await running).toBeUndefined();
    expect(decryptThread.available()).toBe(false);
    expect(await decryptThread.start()).toBe(false);
  });
});
