/**
 * The code blocks of the README's "Install into your Prisma project" section that the
 * install test runs as written: the npm and pnpm install commands, the pnpm-workspace.yaml,
 * the key-store and checkpoint models, and the SQL for their tables.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const HEADING = '## Install into your Prisma project';

/** The directory the README's commands name; the test puts the real one in its place. */
export const README_TARBALL_DIR = '/path/to/hushfield/dist-tarballs';

/** What the install section says to run and paste. */
export interface InstallDocs {
  /** The npm commands (a `sh` block). */
  readonly npm: string;
  /** The pnpm commands (a `sh` block). */
  readonly pnpm: string;
  /** The `pnpm-workspace.yaml` for pnpm. */
  readonly pnpmWorkspace: string;
  /** The `HushfieldKey` and `HushfieldCheckpoint` models. */
  readonly models: string;
  /** The SQL creating `hushfield_keys` and `hushfield_checkpoints`. */
  readonly sql: string;
  /** Every tarball file name the section mentions. */
  readonly tarballNames: readonly string[];
}

/** Reads the install section of the README. @throws Error naming a block that is missing or given twice. */
export function readInstallDocs(readme = join(ROOT, 'README.md')): InstallDocs {
  const text = readFileSync(readme, 'utf8');
  const start = text.indexOf(`\n${HEADING}\n`);
  if (start < 0) throw new Error(`README has no "${HEADING}" section`);
  const end = text.indexOf('\n## ', start + HEADING.length + 2);
  const section = text.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(([, lang, body]) => ({ lang, body }));
  const one = (what: string, test: (block: { lang: string; body: string }) => boolean): string => {
    const found = blocks.filter(test);
    if (found.length !== 1)
      throw new Error(`README install section: expected one ${what} block, found ${found.length}`);
    return found[0].body;
  };
  return {
    npm: one('sh with `npm install`', (block) => block.lang === 'sh' && /^npm install /m.test(block.body)),
    pnpm: one('sh with `pnpm add`', (block) => block.lang === 'sh' && /^pnpm add /m.test(block.body)),
    pnpmWorkspace: one('yaml', (block) => block.lang === 'yaml'),
    models: one(
      'prisma with model HushfieldKey',
      (block) => block.lang === 'prisma' && block.body.includes('model HushfieldKey'),
    ),
    sql: one('sql', (block) => block.lang === 'sql'),
    tarballNames: [...new Set(section.match(/hushfield-[a-z0-9-]+?-\d+\.\d+\.\d+\.tgz/g) ?? [])].sort(),
  };
}
