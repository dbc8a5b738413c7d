import { TokenBucket, abortableSleep } from './rate-limit';
import type { BucketClock } from './rate-limit';

/** A clock whose sleeps advance it at once, recording what was slept. */
function fakeClock(): BucketClock & { time: number; slept: number[] } {
  const clock = {
    time: 0,
    slept: [] as number[],
    now: () => clock.time,
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      clock.time += ms;
    },
  };
  return clock;
}

describe('TokenBucket', () => {
  it('starts empty: the first take waits for its tokens, so the average never exceeds the rate', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(1000, 500, clock);
    for (let i = 0; i < 10; i++) await bucket.take(500);
    // 5,000 rows at 1,000 rows/s: 5 s, however the takes are split.
    expect(clock.time).toBeGreaterThanOrEqual(5000);
    expect(clock.time).toBeLessThan(5010);
  });

  it('lets earned tokens through at once, up to the burst', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(100, 50, clock);
    clock.time = 10_000; // idle for 10 s: only the burst (50) was kept
    await bucket.take(50);
    expect(clock.slept).toEqual([]);
    await bucket.take(50);
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBe(500);
  });

  it('serves concurrent takes in order and at the rate in total', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(200, 100, clock);
    const order: number[] = [];
    await Promise.all([1, 2, 3, 4].map((n) => bucket.take(100).then(() => order.push(n))));
    expect(order).toEqual([1, 2, 3, 4]);
    expect(clock.time).toBeGreaterThanOrEqual(2000);
    expect(clock.time).toBeLessThan(2010);
  });

  it('follows a new rate (a new share of the run cap)', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(100, 100, clock);
    bucket.setRate(1000);
    expect(bucket.perSecond).toBe(1000);
    await bucket.take(1000);
    expect(clock.time).toBe(1000);
  });

  it('stops waiting when aborted', async () => {
    const bucket = new TokenBucket(1, 1);
    const controller = new AbortController();
    const started = Date.now();
    const taking = bucket.take(1_000_000, controller.signal);
    setTimeout(() => controller.abort(), 20);
    await taking;
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('abortableSleep', () => {
  it('resolves at once when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const started = Date.now();
    await abortableSleep(60_000, controller.signal);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
