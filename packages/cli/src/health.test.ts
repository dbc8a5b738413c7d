import { randomBytes } from 'node:crypto';
import { type AuditEvent, LocalKeyring } from '@hushfield/core';
import { keyringRoundTrip } from './health';

describe('keyringRoundTrip', () => {
  it('audits both calls, without an actor when actor() throws rather than losing the events', async () => {
    const events: AuditEvent[] = [];
    const keyring = new LocalKeyring(randomBytes(32));
    const health = await keyringRoundTrip(keyring, {
      sink: { emit: (event) => void events.push(event) },
      actor: () => {
        throw new Error('no request in scope');
      },
    });
    expect(health.ok).toBe(true);
    expect(events.map((event) => [event.operation, event.outcome, event.actor])).toEqual([
      ['keyring.wrap', 'success', undefined],
      ['keyring.unwrap', 'success', undefined],
    ]);
  });
});
