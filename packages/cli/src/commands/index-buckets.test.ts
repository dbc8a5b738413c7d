import { BucketCounter, bucketLine } from './index-buckets';

const index = {
  name: 'ssnIdx',
  dbName: 'ssn_idx',
  source: 'ssn',
  normalize: ['digits@1' as const],
  bits: 4,
  unique: false,
  optional: true,
};

describe('BucketCounter', () => {
  it('reports bucket sizes, singletons and skew from the values it saw', () => {
    const counter = new BucketCounter({ ...index, expected: 100 });
    for (const [value, times] of [
      ['a', 1],
      ['b', 1],
      ['c', 2],
      ['d', 6],
    ] as const)
      for (let i = 0; i < times; i++) counter.add(value);
    const report = counter.report();
    expect(report).toEqual({
      bits: 4,
      expected: 100,
      values: 10,
      buckets: 4,
      min: 1,
      median: 1.5,
      mean: 2.5,
      max: 6,
      spreadMean: 0.625,
      singletons: 2,
      skew: 2.4,
      histogram: [
        { size: '1', buckets: 2 },
        { size: '2', buckets: 1 },
        { size: '6', buckets: 1 },
      ],
    });
    expect(JSON.stringify(report)).not.toMatch(/"[abcd]"/);
    expect(bucketLine(report)).toBe(
      '    buckets (4 bits, expected 100 values): 10 values in 4 buckets; per bucket min 1, median 1.5, ' +
        'mean 2.5, max 6 (skew 2.4); 2 values alone in their bucket (20%)',
    );
  });

  it('groups bucket sizes past the twentieth', () => {
    const counter = new BucketCounter(index);
    for (let size = 1; size <= 25; size++) for (let i = 0; i < size; i++) counter.add(`v${size}`);
    const { histogram } = counter.report();
    expect(histogram).toHaveLength(20);
    expect(histogram[19]).toEqual({ size: '20+', buckets: 6 });
  });

  it('reports an empty index', () => {
    const report = new BucketCounter(index).report();
    expect(report).toMatchObject({ values: 0, buckets: 0, min: 0, median: 0, mean: 0, max: 0, skew: 0, histogram: [] });
    expect(bucketLine(report)).toBe('    buckets (4 bits): no values');
  });
});
