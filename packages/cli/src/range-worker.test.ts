import { followSignal, everyTick, heartbeatMs } from './range-worker';

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

describe('everyTick', () => {
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  test('stop resolves only once the beat in flight finished, and no beat starts after it', async () => {
    const events: string[] = [];
    let beats = 0;
    const stop = everyTick(5, async () => {
      beats++;
      events.push('beat started');
      await sleep(100);
      // A renewal after this point would query a client its caller may have closed.
      events.push('beat finished');
    });
    await sleep(30);
    await stop();
    events.push('stopped');
    await sleep(50);
    expect(beats).toBe(1);
    expect(events).toEqual(['beat started', 'beat finished', 'stopped']);
  });

  test('runs one beat at a time, and a beat that rejects neither stops the ticks nor stop()', async () => {
    let beats = 0;
    let concurrent = 0;
    let most = 0;
    const stop = everyTick(2, async () => {
      beats++;
      most = Math.max(most, ++concurrent);
      await sleep(10);
      concurrent--;
      throw new Error('renewal failed');
    });
    await sleep(80);
    await expect(stop()).resolves.toBeUndefined();
    expect(most).toBe(1);
    expect(beats).toBeGreaterThan(1);
  });
});

describe('followSignal', () => {
  test('aborts at once when the signal already aborted (a stop while the range was being claimed)', () => {
    const stop = new AbortController();
    stop.abort();
    expect(followSignal(stop.signal).controller.signal.aborted).toBe(true);
  });

  test('aborts when the signal does, and no longer once released', () => {
    const stop = new AbortController();
    const followed = followSignal(stop.signal);
    expect(followed.controller.signal.aborted).toBe(false);
    stop.abort();
    expect(followed.controller.signal.aborted).toBe(true);

    const later = new AbortController();
    const released = followSignal(later.signal);
    released.release();
    later.abort();
    expect(released.controller.signal.aborted).toBe(false);
  });

  test('without a signal, never aborts by itself', () => {
    const { controller, release } = followSignal(undefined);
    release();
    expect(controller.signal.aborted).toBe(false);
  });
});
