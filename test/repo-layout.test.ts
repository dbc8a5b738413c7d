import { readdirSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');
const SKIPPED = new Set(['node_modules', 'dist', 'generated', '.git']);

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name)) return [];
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(full);
    return entry.name.endsWith('.test.ts') ? [path.relative(ROOT, full)] : [];
  });
}

// Jest reports failures by file; two test files with one name in different trees read as one
// in a failure list. Every test file name in the repository is unique.
describe('repository layout', () => {
  it('no two test files share a name', () => {
    const files = ['packages', 'test', 'examples', 'bench'].flatMap((dir) => testFiles(path.join(ROOT, dir)));
    const byName = new Map<string, string[]>();
    for (const file of files) byName.set(path.basename(file), [...(byName.get(path.basename(file)) ?? []), file]);
    expect(files.length).toBeGreaterThan(50);
    expect([...byName.values()].filter((paths) => paths.length > 1)).toEqual([]);
  });
});
