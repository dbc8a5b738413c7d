import { settleAll } from './settle-all';

/** A promise settled by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('settleAll', () => {
  it('gives the values in order, as Promise.all does', async () => {
    await expect(settleAll([Promise.resolve(1), Promise.resolve(2), Promise.resolve(3)])).resolves.toEqual([1, 2, 3]);
    await expect(settleAll([])).resolves.toEqual([]);
  });

  it('rejects only once every other promise has settled', async () => {
    const slow = deferred<number>();
    let settled = false;
    const failing = Promise.reject(new Error('first'));
    const result = settleAll([slow.promise, failing]).then(
      () => 'resolved',
      (error: Error) => (settled ? error.message : 'rejected while work still ran'),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    settled = true;
    slow.resolve(1);
    expect(await result).toBe('first');
  });

  it('rejects with the first rejection in time, not a later one', async () => {
    const later = deferred<number>();
    const result = settleAll([later.promise, Promise.reject(new Error('first'))]).catch(
      (error: Error) => error.message,
    );
    later.reject(new Error('second'));
    expect(await result).toBe('first');
  });
});
