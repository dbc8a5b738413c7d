import { PassThrough } from 'node:stream';
import { RunProgress, createProgress, rate } from './progress';

function capture() {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

test('rate is rows per second, 0 before any time passed', () => {
  expect(rate(5000, 1000)).toBe(5000);
  expect(rate(10, 0)).toBe(0);
});

test('off a terminal, prints plain lines with rows, rows/s and ETA, and a last line per model', () => {
  const out = capture();
  const progress = createProgress(out.stream, { tty: false, intervalMs: 0 });
  progress.start('Customer', 1000, 0);
  progress.advance(500);
  progress.stop();
  const lines = out.text().trim().split('\n');
  expect(lines[0]).toMatch(/^Customer: 500\/1000 rows, \d+ rows\/s, ETA (\d+s|\?)$/);
  expect(lines[lines.length - 1]).toMatch(/^Customer: 500\/1000 rows/);
});

test('prints nothing for an empty table, and nothing at all when quiet', () => {
  const out = capture();
  const progress = createProgress(out.stream, { tty: false, intervalMs: 0 });
  progress.start('Post', 0, 0);
  progress.stop();
  expect(out.text()).toBe('');
  const quiet = capture();
  const silent = createProgress(quiet.stream, { tty: false, quiet: true });
  silent.start('Customer', 10, 0);
  silent.advance(10);
  silent.note('x');
  silent.stop();
  expect(quiet.text()).toBe('');
});

test('on a terminal, draws a cli-progress bar with rows/s and ETA', () => {
  const out = capture();
  const progress = createProgress(out.stream, { tty: true });
  progress.start('Customer', 100, 0);
  progress.advance(40);
  progress.stop();
  expect(out.text()).toMatch(/Customer .*40% \| 40\/100 rows \| \d+ rows\/s \| ETA/);
});

describe('RunProgress', () => {
  it('prints the whole run and each worker here, at most once per interval, and always at the end', () => {
    const lines: string[] = [];
    const progress = new RunProgress('r1', (line) => lines.push(line), { quiet: false, intervalMs: 60_000 });
    progress.sample(1000, 10_000, new Map([['vm:1:w1', 0]]));
    progress.sample(2000, 10_000, new Map([['vm:1:w1', 500]]));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^run r1: 1000\/10000 rows, 0 rows\/s, ETA \? \| here: w1 0 rows\/s$/);
    progress.sample(
      10_000,
      10_000,
      new Map([
        ['vm:1:w1', 4000],
        ['vm:1:w2', 5000],
      ]),
      true,
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      /^run r1: 10000\/10000 rows, \d+ rows\/s, ETA 0s \| here: w1 \d+ rows\/s, w2 \d+ rows\/s$/,
    );
  });

  it('prints nothing when quiet', () => {
    const lines: string[] = [];
    const progress = new RunProgress('r1', (line) => lines.push(line), { quiet: true });
    progress.sample(5, 10, new Map(), true);
    expect(lines).toEqual([]);
  });
});
