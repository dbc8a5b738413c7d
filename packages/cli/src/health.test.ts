import { randomBytes } from 'node:crypto';
import { type AuditEvent, LocalKeyring } from '@hushfield/core';
import { keyringRoundTrip } from './health';

describe('keyringRoundTrip', () => {
  it('audits both calls when actor() throws, each saying its actor failed, and warns', async () => {
    const warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const events: AuditEvent[] = [];
      const keyring = new LocalKeyring(randomBytes(32));
      const health = await keyringRoundTrip(keyring, {
        sink: { emit: (event) => void events.push(event) },
        actor: () => {
          throw new RangeError('no request in scope for user secret-name');
        },
      });
      expect(health.ok).toBe(true);
      expect(events.map((event) => [event.operation, event.outcome, event.actor, event.detail])).toEqual([
        ['keyring.wrap', 'success', undefined, { purpose: 'health-check', actorFailed: 'RangeError' }],
        ['keyring.unwrap', 'success', undefined, { purpose: 'health-check', actorFailed: 'RangeError' }],
      ]);
      expect(warning).toHaveBeenCalledWith(
        expect.stringContaining('actor() failed (RangeError)'),
        'HushfieldAuditWarning',
      );
      expect(JSON.stringify([events, warning.mock.calls])).not.toContain('secret-name');
    } finally {
      warning.mockRestore();
    }
  });

  it("names an actor() error whose name is not a class name (the thrower's text) as Error, in the events and the warning", async () => {
    const warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const events: AuditEvent[] = [];
      await keyringRoundTrip(new LocalKeyring(randomBytes(32)), {
        sink: { emit: (event) => void events.push(event) },
        actor: () => {
          throw Object.assign(new Error('no session'), { name: 'no session for token tok-secret-1' });
        },
      });
      expect(events.map((event) => event.detail?.actorFailed)).toEqual(['Error', 'Error']);
      expect(JSON.stringify([events, warning.mock.calls])).not.toContain('tok-secret-1');
    } finally {
      warning.mockRestore();
    }
  });

  it('stamps the actor on both calls', async () => {
    const events: AuditEvent[] = [];
    await keyringRoundTrip(new LocalKeyring(randomBytes(32)), {
      sink: { emit: (event) => void events.push(event) },
      actor: () => ({ user: 'ops-alice' }),
    });
    expect(events.map((event) => [event.actor, event.detail])).toEqual([
      [{ user: 'ops-alice' }, { purpose: 'health-check' }],
      [{ user: 'ops-alice' }, { purpose: 'health-check' }],
    ]);
  });
});
