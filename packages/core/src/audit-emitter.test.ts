import type { AuditEvent } from './audit';
import { AuditEmitter } from './audit-emitter';

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
      expect(String(warning.mock.calls[0][0])).toContain('actor() failed (TypeError)');
      expect(String(warning.mock.calls[0][0])).not.toContain('reading');
    } finally {
      warning.mockRestore();
    }
  });
});
