import { PassThrough } from 'node:stream';
import { createProgress, rate } from './progress';

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
