import type { AuditEvent } from './audit';
import { AuditEmitter, WARNING_INTERVAL_MS } from './audit-emitter';

describe('AuditEmitter', () => {
  it('still delivers the event when actor() throws (outside a request, say), without an actor, and warns', () => {
    const warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const events: AuditEvent[] = [];
      const emitter = new AuditEmitter({ emit: (event) => void events.push(event) }, () => {
        throw new TypeError("Cannot read properties of undefined (reading 'id')");
      });
      emitter.emit({ operation: 'keyring.unwrap', outcome: 'success', keyId: 'k1', scope: 'tenant-1' });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ operation: 'keyring.unwrap', keyId: 'k1', scope: 'tenant-1' });
      expect(events[0].actor).toBeUndefined();
      // The trail itself says the actor failed, rather than looking like an event nobody caused.
      expect(events[0].detail).toEqual({ actorFailed: 'TypeError' });
      emitter.emit({ operation: 'value.decrypt', outcome: 'success', keyId: 'k1', detail: { model: 'users' } });
      expect(events[1].detail).toEqual({ model: 'users', actorFailed: 'TypeError' });
      expect(JSON.stringify(events)).not.toContain('reading');
      expect(String(warning.mock.calls[0][0])).toContain('actor() failed (TypeError)');
      expect(String(warning.mock.calls[0][0])).not.toContain('reading');
    } finally {
      warning.mockRestore();
    }
  });

  it('adds no actorFailed when actor() answers, or when there is no actor()', () => {
    const events: AuditEvent[] = [];
    new AuditEmitter({ emit: (event) => void events.push(event) }, () => ({ user: 'ada' })).emit({
      operation: 'key.create',
      outcome: 'success',
    });
    new AuditEmitter({ emit: (event) => void events.push(event) }).emit({
      operation: 'key.create',
      outcome: 'success',
    });
    expect(events.map((event) => [event.actor, event.detail])).toEqual([
      [{ user: 'ada' }, undefined],
      [undefined, undefined],
    ]);
  });

  it('warns about a sink failing on every event once, then once a minute with the count, not once per event', async () => {
    const warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      let clock = 0;
      const sink = { emit: () => Promise.reject(new RangeError('scope tenant-secret too long')) };
      const emitter = new AuditEmitter(sink, undefined, () => clock);
      const draft = { operation: 'keyring.unwrap', outcome: 'success', keyId: 'k1' } as const;
      for (let i = 0; i < 1_000; i++) emitter.emit(draft);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warning).toHaveBeenCalledTimes(1);
      expect(String(warning.mock.calls[0][0])).toContain('sink failed (RangeError); the event was dropped');
      clock = WARNING_INTERVAL_MS;
      emitter.emit(draft);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warning).toHaveBeenCalledTimes(2);
      expect(String(warning.mock.calls[1][0])).toContain('1000 events since the last warning were dropped');
      expect(warning.mock.calls.map(String).join()).not.toContain('tenant-secret');
    } finally {
      warning.mockRestore();
    }
  });

  it('warns about an actor() failing on every event once per minute too', () => {
    const warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const events: AuditEvent[] = [];
      const emitter = new AuditEmitter(
        { emit: (event) => void events.push(event) },
        () => {
          throw new Error('no request');
        },
        () => 0,
      );
      for (let i = 0; i < 100; i++) emitter.emit({ operation: 'keyring.wrap', outcome: 'success', keyId: 'k1' });
      expect(events).toHaveLength(100);
      expect(warning).toHaveBeenCalledTimes(1);
    } finally {
      warning.mockRestore();
    }
  });
});
