import { heartbeatMs } from './range-worker';

describe('heartbeatMs', () => {
  test('ticks at least three times a lease, so a renewal lands before the lease runs out', () => {
    // --lease-seconds 1 with the 1 s poll: a tick a second renewed when the lease expired.
    expect(heartbeatMs(1000, 1)).toBe(333);
    expect(heartbeatMs(1000, 2)).toBe(666);
    for (const lease of [1, 2, 3, 5, 30, 600]) {
      const tick = heartbeatMs(1000, lease);
      // The renewal is due a third of a lease after the last one and runs on the next tick.
      expect((lease * 1000) / 3 + tick).toBeLessThan(lease * 1000);
    }
  });

  test('keeps the poll interval when leases are long (a pause still reaches the worker within it)', () => {
    expect(heartbeatMs(1000, 30)).toBe(1000);
    expect(heartbeatMs(250, 30)).toBe(250);
  });
});
