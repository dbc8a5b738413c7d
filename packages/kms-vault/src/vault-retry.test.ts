import { backoffDelay, parseRetryAfter, resolveRetryOptions } from './retry';

describe('Vault retry policy', () => {
  it('backs off exponentially with full jitter, capped', () => {
    const options = resolveRetryOptions({ baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0.5 });
    expect([1, 2, 3, 4, 5].map((retry) => backoffDelay(options, retry))).toEqual([50, 100, 200, 400, 500]);
  });

  it('waits at least Retry-After, but never above the cap', () => {
    const options = resolveRetryOptions({ baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0 });
    expect(backoffDelay(options, 1, 700)).toBe(700);
    expect(backoffDelay(options, 1, 60_000)).toBe(1_000);
  });

  it('reads Retry-After seconds and ignores anything else', () => {
    expect(parseRetryAfter('2')).toBe(2_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT')).toBeUndefined();
    expect(parseRetryAfter('-1')).toBeUndefined();
  });

  it('names the bad setting', () => {
    expect(() => resolveRetryOptions({ maxAttempts: 0 })).toThrow('retry.maxAttempts must be an integer from 1 to 20');
    expect(() => resolveRetryOptions({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow('retry.maxDelayMs');
  });
});
