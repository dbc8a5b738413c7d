import { InvalidArgumentError } from '@hushfield/core';
import { afterWhere, decodeKey, encodeKey, keyWhere, rangeBoundaries, readAhead, throughWhere } from './walker';
import type { ModelDelegate } from './walker';

describe('cursor encoding', () => {
  test('round-trips numbers, strings, bigints and dates', () => {
    const key = [42, 'c1b2', 12345678901234567890n, new Date('2026-01-02T03:04:05.000Z')];
    expect(decodeKey(encodeKey(key))).toEqual(key);
  });

  test('rejects a cursor that is not a JSON array, asking for --restart', () => {
    expect(() => decodeKey('{oops')).toThrow(InvalidArgumentError);
    expect(() => decodeKey('{"a":1}')).toThrow(/--restart/);
  });
});

describe('afterWhere', () => {
  test('a single-field key continues strictly after the cursor', () => {
    expect(afterWhere(['id'], [500])).toEqual({ id: { gt: 500 } });
  });

  test('a compound key continues in lexicographic order', () => {
    expect(afterWhere(['a', 'b', 'c'], [1, 'x', 3])).toEqual({
      OR: [{ a: { gt: 1 } }, { a: 1, b: { gt: 'x' } }, { a: 1, b: 'x', c: { gt: 3 } }],
    });
  });

  test('rejects a cursor of the wrong width', () => {
    expect(() => afterWhere(['a', 'b'], [1])).toThrow(InvalidArgumentError);
  });
});

test('keyWhere names every key field', () => {
  expect(keyWhere(['tenant', 'id'], ['t1', 7])).toEqual({ tenant: 't1', id: 7 });
});

describe('readAhead', () => {
  /** A source that logs when each item is asked for and when the source is closed. */
  function source(items: number[], events: string[], failAt?: number) {
    return (async function* () {
      try {
        for (const [i, item] of items.entries()) {
          events.push(`read ${item}`);
          await new Promise((resolve) => setImmediate(resolve));
          if (i === failAt) throw new Error('connection reset');
          yield item;
        }
      } finally {
        events.push('closed');
      }
    })();
  }

  test('yields every item in order and reads the next one while the caller works on the current one', async () => {
    const events: string[] = [];
    for await (const item of readAhead(source([1, 2, 3], events))) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push(`done ${item}`);
    }
    // Reading ahead of the last item finds the end, so the source closes before the caller is done.
    expect(events).toEqual(['read 1', 'read 2', 'done 1', 'read 3', 'done 2', 'closed', 'done 3']);
  });

  test('closes the source when the caller stops early, without an unhandled failure of the read ahead', async () => {
    const events: string[] = [];
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      for await (const item of readAhead(source([1, 2, 3], events, 1))) {
        events.push(`done ${item}`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('unhandledRejection', unhandled);
    }
    expect(events).toEqual(['read 1', 'read 2', 'done 1', 'closed']);
    expect(unhandled).not.toHaveBeenCalled();
  });

  test('a caller that stops does not wait for the read in flight', async () => {
    const slow = (async function* () {
      yield 1;
      await new Promise((resolve) => setTimeout(resolve, 500));
      yield 2;
    })();
    const started = Date.now();
    for await (const item of readAhead(slow)) {
      expect(item).toBe(1);
      break;
    }
    expect(Date.now() - started).toBeLessThan(250);
  });

  test('passes a failed read on to the caller', async () => {
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const item of readAhead(source([1, 2, 3], [], 1))) seen.push(item);
      })(),
    ).rejects.toThrow('connection reset');
    expect(seen).toEqual([1]);
  });
});

describe('throughWhere (a range ends on its last key, inclusive)', () => {
  test('a single-field key', () => {
    expect(throughWhere(['id'], [500])).toEqual({ id: { lte: 500 } });
  });

  test('a compound key: every key up to and including the last one, in lexicographic order', () => {
    expect(throughWhere(['a', 'b'], [1, 'x'])).toEqual({
      OR: [{ a: { lt: 1 } }, { a: 1, b: { lt: 'x' } }, { a: 1, b: 'x' }],
    });
  });

  test('rejects a bound of the wrong width', () => {
    expect(() => throughWhere(['a', 'b'], [1])).toThrow(InvalidArgumentError);
  });
});

describe('rangeBoundaries', () => {
  /** A delegate over ids 1..n answering keyset + OFFSET queries as a database would. */
  function table(n: number): ModelDelegate & { queries: number } {
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    const delegate = {
      queries: 0,
      async findMany(args: Record<string, unknown>) {
        delegate.queries++;
        const after = (args.where as { id?: { gt: number } } | undefined)?.id?.gt ?? 0;
        const row = ids.filter((id) => id > after)[(args.skip as number) ?? 0];
        return row === undefined ? [] : [{ id: row }];
      },
      updateMany: async () => ({ count: 0 }),
      count: async () => n,
    };
    return delegate;
  }

  test('ends a range every `rowsPerRange` rows; the last range is what is left', async () => {
    expect(await rangeBoundaries(table(25), ['id'], 10)).toEqual(['[10]', '[20]']);
  });

  test('an exact multiple ends the last full range on the last row (an empty open range follows)', async () => {
    expect(await rangeBoundaries(table(20), ['id'], 10)).toEqual(['[10]', '[20]']);
  });

  test('a table smaller than a range has no boundary: one range, the whole table', async () => {
    const small = table(3);
    expect(await rangeBoundaries(small, ['id'], 10)).toEqual([]);
    expect(small.queries).toBe(1);
  });
});
