import { runStoppingOthers } from './scaled-run';

/** A worker that works until its signal aborts, then takes `tailMs` more (its batch in flight). */
function untilStopped(tailMs: number, finished: string[], name: string) {
  return (signal: AbortSignal) =>
    new Promise<string>((resolve) => {
      signal.addEventListener(
        'abort',
        () =>
          setTimeout(() => {
            finished.push(name);
            resolve(name);
          }, tailMs),
        { once: true },
      );
    });
}

describe('runStoppingOthers (workers on the main thread)', () => {
  test('gives every worker result, in order, when none fails', async () => {
    const results = await runStoppingOthers([async () => 'w1', async () => 'w2']);
    expect(results).toEqual(['w1', 'w2']);
  });

  test('a worker that throws stops the others, and the call rejects only once they returned', async () => {
    const finished: string[] = [];
    const failure = new Error('range store unreachable');
    const outcome = runStoppingOthers([
      untilStopped(50, finished, 'w1'),
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        throw failure;
      },
      untilStopped(100, finished, 'w3'),
    ]).then(
      () => 'resolved',
      (error: unknown) => ({ error, finishedThen: [...finished] }),
    );
    // Without the stop, w1 and w3 would wait forever; without the wait, finishedThen would be empty.
    expect(await outcome).toEqual({ error: failure, finishedThen: ['w1', 'w3'] });
  });

  test("the user's interrupt reaches every worker", async () => {
    const interrupt = new AbortController();
    const finished: string[] = [];
    const outcome = runStoppingOthers(
      [untilStopped(5, finished, 'w1'), untilStopped(5, finished, 'w2')],
      interrupt.signal,
    );
    interrupt.abort();
    expect(await outcome).toEqual(['w1', 'w2']);
  });

  test('the first error is the one thrown when several workers fail', async () => {
    const first = new Error('first');
    const outcome = runStoppingOthers([
      async () => {
        throw first;
      },
      async (signal) => {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        throw new Error('second, while stopping');
      },
    ]);
    await expect(outcome).rejects.toBe(first);
  });
});

test('a worker that throws before returning its promise stops the others the same way', async () => {
  const finished: string[] = [];
  const failure = new Error('no worker');
  const outcome = runStoppingOthers([
    untilStopped(20, finished, 'w1'),
    () => {
      throw failure;
    },
  ]);
  await expect(outcome).rejects.toBe(failure);
  expect(finished).toEqual(['w1']);
});
