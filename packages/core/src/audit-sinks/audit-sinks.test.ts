import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { AuditEvent } from '../audit';
import { AuditUnwrittenError, InvalidArgumentError } from '../errors';
import { BatchingAuditSink } from './batching';
import { JsonLinesAuditSink } from './json-lines';

const event = (n: number): AuditEvent => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
  operation: 'keyring.unwrap',
  outcome: 'success',
  keyId: `k${n}`,
  scope: 'tenant-1',
  actor: { user: 'alice' },
});

describe('JsonLinesAuditSink', () => {
  it('refuses an empty file path at construction (every event would be dropped)', () => {
    const make = () => new JsonLinesAuditSink('');
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow('target must be a file path or a writable stream');
  });

  it.each([null, 7, 'audit.jsonl'])('refuses options %p that are not an object, naming the class', (options) => {
    const make = () => new JsonLinesAuditSink(new PassThrough(), options as unknown as object);
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(/^JsonLinesAuditSink: options must be an object \(or left out\), got (null|number|string)$/);
  });

  it('appends one JSON object per line to a file, time in ISO 8601', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hushfield-audit-')), 'audit.jsonl');
    const sink = new JsonLinesAuditSink(path);
    sink.emit(event(1));
    sink.emit(event(2));
    await sink.close();
    const again = new JsonLinesAuditSink(path);
    again.emit(event(3));
    await again.close();
    const lines = readFileSync(path, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.keyId)).toEqual(['k1', 'k2', 'k3']);
    expect(lines[0]).toMatchObject({ time: '2026-01-01T00:00:01.000Z', scope: 'tenant-1', actor: { user: 'alice' } });
  });

  it('drops and counts events while more than maxBufferedBytes wait on a stalled stream', () => {
    const stream = new PassThrough({ highWaterMark: 1 }); // never read: writes stay buffered
    const sink = new JsonLinesAuditSink(stream, { maxBufferedBytes: 200 });
    for (let n = 0; n < 20; n++) sink.emit(event(n));
    expect(sink.dropped).toBeGreaterThan(10);
    expect(stream.writableLength).toBeLessThan(400);
  });

  it('close waits for lines a slow stream is still writing (below its high-water mark: no drain event)', async () => {
    const lines: string[] = [];
    const slow = new Writable({
      write(chunk, _encoding, callback) {
        setTimeout(() => {
          lines.push(String(chunk));
          callback();
        }, 20);
      },
    });
    const sink = new JsonLinesAuditSink(slow);
    sink.emit(event(1));
    sink.emit(event(2));
    const closed = await Promise.race([
      sink.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1_000)),
    ]);
    expect(closed).toBe('closed');
    expect(lines.map((line) => JSON.parse(line).keyId)).toEqual(['k1', 'k2']);
  });

  it('counts every line lost when the file cannot be written, those already buffered included', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hushfield-audit-')), 'missing-dir', 'audit.jsonl');
    const sink = new JsonLinesAuditSink(path);
    for (let n = 0; n < 3; n++) sink.emit(event(n));
    await sink.close();
    sink.emit(event(4));
    expect(sink.dropped).toBe(4);
  });

  it('counts lines buffered behind a write the stream fails', async () => {
    const failing = new Writable({
      write(_chunk, _encoding, callback) {
        setTimeout(() => callback(new Error('EIO')), 5);
      },
    });
    const sink = new JsonLinesAuditSink(failing);
    for (let n = 0; n < 3; n++) sink.emit(event(n));
    await sink.close();
    expect(sink.dropped).toBe(3);
  });

  it('rejects a target that is neither a path nor a stream', () => {
    expect(() => new JsonLinesAuditSink(42 as unknown as string)).toThrow(
      /target must be a file path or a writable stream/,
    );
  });
});

describe('BatchingAuditSink', () => {
  it.each([null, 1000, 'batch'])('refuses options %p that are not an object, naming the class', (options) => {
    const make = () => new BatchingAuditSink(async () => {}, options as unknown as object);
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(/^BatchingAuditSink: options must be an object \(or left out\), got (null|number|string)$/);
  });

  it('refuses a closeTimeoutMs or flushIntervalMs longer than a timer holds (about 24.8 days)', async () => {
    for (const ms of [2 ** 31, Number.MAX_SAFE_INTEGER]) {
      expect(() => new BatchingAuditSink(async () => undefined, { closeTimeoutMs: ms })).toThrow(
        'options.closeTimeoutMs must be a positive integer of at most 2147483647',
      );
      expect(() => new BatchingAuditSink(async () => undefined, { flushIntervalMs: ms })).toThrow(
        'options.flushIntervalMs must be a positive integer of at most 2147483647',
      );
    }
    // The longest a timer holds: close() waits for the slow write, as it does by default.
    const written: AuditEvent[] = [];
    const sink = new BatchingAuditSink(
      async (events) => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        written.push(...events);
      },
      { closeTimeoutMs: 2 ** 31 - 1 },
    );
    for (let n = 0; n < 3; n++) sink.emit(event(n));
    await sink.close();
    expect([written.length, sink.dropped]).toEqual([3, 0]);
  });

  it('writes full batches at once and the rest on flush', async () => {
    const batches: number[] = [];
    const sink = new BatchingAuditSink(async (events) => void batches.push(events.length), { batchSize: 3 });
    for (let n = 0; n < 7; n++) sink.emit(event(n));
    await sink.flush();
    expect(batches.reduce((a, b) => a + b, 0)).toBe(7);
    expect(Math.max(...batches)).toBeLessThanOrEqual(3);
    expect(sink.written).toBe(7);
  });

  it('writes a partial batch after flushIntervalMs', async () => {
    const written: AuditEvent[] = [];
    const sink = new BatchingAuditSink(async (events) => void written.push(...events), { flushIntervalMs: 10 });
    sink.emit(event(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(written).toHaveLength(1);
  });

  it('never blocks emit on a slow writer: beyond maxQueue events are dropped and counted', async () => {
    const warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sink = new BatchingAuditSink(() => gate, { maxQueue: 5, batchSize: 2, name: 'db' });
    const started = performance.now();
    for (let n = 0; n < 20; n++) sink.emit(event(n));
    expect(performance.now() - started).toBeLessThan(50);
    expect(sink.dropped).toBeGreaterThanOrEqual(13);
    release();
    await sink.flush();
    expect(sink.dropped + sink.written).toBe(20);
    expect(warning).toHaveBeenCalledTimes(1);
    expect(String(warning.mock.calls[0][0])).toContain("'db' is dropping events: its queue is full");
    warning.mockRestore();
  });

  it('writes a failed batch again one event at a time: an event the writer refuses is dropped alone', async () => {
    const warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const written: string[] = [];
    const sink = new BatchingAuditSink(
      async (events) => {
        if (events.some((e) => e.keyId === 'k3')) throw new RangeError('value too long for column');
        written.push(...events.map((e) => e.keyId!));
      },
      { batchSize: 5 },
    );
    try {
      for (let n = 1; n <= 5; n++) sink.emit(event(n));
      await sink.flush();
      expect(written).toEqual(['k1', 'k2', 'k4', 'k5']);
      expect(sink.written).toBe(4);
      expect(sink.dropped).toBe(1);
      expect(String(warning.mock.calls[0][0])).toContain('a write failed (RangeError)');
    } finally {
      warning.mockRestore();
    }
  });

  it('during an outage drops a failed batch after a few single writes fail, not one failing write per event', async () => {
    const warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    let calls = 0;
    const sink = new BatchingAuditSink(
      async () => {
        calls++;
        throw new Error('connection refused');
      },
      { batchSize: 100 },
    );
    try {
      for (let n = 0; n < 300; n++) sink.emit(event(n));
      await sink.close();
      expect(sink.dropped).toBe(300);
      expect(sink.written).toBe(0);
      // Each batch: its own write, then 3 single writes before the rest is dropped.
      expect(calls).toBe(3 * (1 + 3));
    } finally {
      warning.mockRestore();
    }
  });

  it('keeps writing a failed batch one by one after its first events were refused, once one went through', async () => {
    const written: string[] = [];
    const refused = new Set(['k1', 'k2', 'k3', 'k5']);
    const sink = new BatchingAuditSink(
      async (events) => {
        if (events.some((e) => refused.has(e.keyId!))) throw new RangeError('value too long for column');
        written.push(...events.map((e) => e.keyId!));
      },
      { batchSize: 6 },
    );
    const warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      for (let n = 1; n <= 6; n++) sink.emit(event(n));
      await sink.flush();
      // The first three fail alone too: taken for an outage, the rest of the batch is dropped.
      expect(written).toEqual([]);
      expect(sink.dropped).toBe(6);
      refused.delete('k1');
      for (let n = 1; n <= 6; n++) sink.emit(event(n));
      await sink.flush();
      expect(written).toEqual(['k1', 'k4', 'k6']);
    } finally {
      warning.mockRestore();
    }
  });

  it('drops and counts a batch whose write fails, and keeps going', async () => {
    const warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    let fail = true;
    const sink = new BatchingAuditSink(
      async () => {
        if (fail) throw new TypeError('connection refused');
      },
      { batchSize: 2 },
    );
    sink.emit(event(1));
    sink.emit(event(2));
    await sink.flush();
    fail = false;
    sink.emit(event(3));
    await sink.flush();
    expect(sink.dropped).toBe(2);
    expect(sink.written).toBe(1);
    expect(String(warning.mock.calls[0][0])).toContain('a write failed (TypeError)');
    warning.mockRestore();
  });

  it('close rejects after closeTimeoutMs on a write that never returns, naming how many events are unwritten', async () => {
    const sink = new BatchingAuditSink(() => new Promise<void>(() => undefined), {
      batchSize: 3,
      closeTimeoutMs: 50,
      name: 'audit-db',
    });
    for (let n = 0; n < 7; n++) sink.emit(event(n));
    const started = Date.now();
    const error = await sink.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(AuditUnwrittenError);
    // The batch in flight (3) and the four queued behind it.
    expect(error).toMatchObject({ code: 'HUSHFIELD_AUDIT_UNWRITTEN', sink: 'audit-db', unwritten: 7, timeoutMs: 50 });
    expect((error as Error).message).toBe(
      "audit sink 'audit-db': close() waited 50 ms for a write that did not return; 7 events are not written " +
        '(kept, and written should the write return)',
    );
    // Nothing was thrown away: the four queued events wait behind the hung write.
    expect([sink.dropped, sink.written, sink.pending]).toEqual([0, 0, 4]);
  });

  it('keeps what close gave up on and writes it once the hung write returns', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const written: string[] = [];
    let calls = 0;
    const sink = new BatchingAuditSink(
      async (events) => {
        if (calls++ === 0) await gate;
        written.push(...events.map((e) => e.keyId!));
      },
      { batchSize: 3, closeTimeoutMs: 30 },
    );
    for (let n = 0; n < 5; n++) sink.emit(event(n));
    await expect(sink.close()).rejects.toMatchObject({ unwritten: 5 });
    sink.emit(event(5));
    release();
    await sink.close();
    expect(written).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
    expect([sink.dropped, sink.written, sink.pending]).toEqual([0, 6, 0]);
  });

  it('refuses a name that is not a non-empty string of at most 64 bytes', () => {
    for (const name of ['', 42, null, { toString: () => 'x' }, 'n'.repeat(65), 'é'.repeat(33)]) {
      const make = () => new BatchingAuditSink(async () => undefined, { name: name as string });
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(/^options\.name must be/);
    }
    expect(() => new BatchingAuditSink(async () => undefined, { name: 'n'.repeat(64) })).not.toThrow();
  });

  it('close still waits for a slow write that returns within closeTimeoutMs', async () => {
    const written: string[] = [];
    const sink = new BatchingAuditSink(
      async (events) => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        written.push(...events.map((e) => e.keyId!));
      },
      { batchSize: 2, closeTimeoutMs: 5_000 },
    );
    for (let n = 0; n < 5; n++) sink.emit(event(n));
    await sink.close();
    expect(written).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect([sink.dropped, sink.written]).toEqual([0, 5]);
  });

  it('refuses a closeTimeoutMs that is not a positive integer', () => {
    expect(() => new BatchingAuditSink(async () => undefined, { closeTimeoutMs: 0 })).toThrow(/closeTimeoutMs/);
  });
});
