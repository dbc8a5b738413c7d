/**
 * Runs the real `prisma generate` with the built hushfield generator on a fixture, in a
 * temporary directory (see fixtures/README.md for the fixture format).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { HushfieldSchema } from '@hushfield/prisma';

const execFileAsync = promisify(execFile);

/** The repository root. */
export const ROOT = join(__dirname, '..', '..');
/** The built generator the fixtures run. */
export const GENERATOR_BIN = join(ROOT, 'packages', 'prisma', 'dist', 'generator', 'bin.js');
/** Where the fixtures live. */
export const FIXTURES = join(__dirname, 'fixtures');

/** What one `prisma generate` run produced. */
export interface GenerateResult {
  readonly status: number;
  /** stdout and stderr together (Prisma prints generator errors to either). */
  readonly output: string;
  /** The emitted `schema.json`, when generation succeeded. */
  readonly schema: HushfieldSchema | null;
  /** The emitted `index.ts`, when generation succeeded. */
  readonly index: string | null;
  /** The temporary directory (removed by {@link cleanUp}). */
  readonly dir: string;
}

/** Lines of a fixture starting with `// <directive>:`. */
export function directives(text: string, directive: string): string[] {
  const prefix = `// ${directive}:`;
  return text
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length).trim());
}

const BUILD_LOCK = join(
  tmpdir(),
  `hushfield-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`,
);

function lockAge(): number {
  try {
    return Date.now() - statSync(BUILD_LOCK).mtimeMs;
  } catch {
    return 0; // released meanwhile
  }
}

/**
 * Builds `packages/prisma` (and core), so the generator under test is current. Jest runs test
 * files in parallel workers: a lock directory keeps two builds from writing dist/ at once.
 */
export async function buildGenerator(): Promise<void> {
  const deadline = Date.now() + 240_000;
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than any build is left over from a killed run.
      if (lockAge() > 180_000) rmSync(BUILD_LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${BUILD_LOCK}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    await execFileAsync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-b', 'packages/prisma'], { cwd: ROOT });
  } finally {
    rmSync(BUILD_LOCK, { recursive: true, force: true });
  }
}

/** Runs `prisma generate` on one fixture file (path relative to fixtures/). */
export async function generateFixture(fixture: string): Promise<GenerateResult> {
  const text = readFileSync(join(FIXTURES, fixture), 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'hushfield-gen-'));
  const settings = directives(text, 'GENERATOR')
    .map((line) => `  ${line}\n`)
    .join('');
  const datasource = directives(text, 'DATASOURCE')
    .map((line) => `  ${line}\n`)
    .join('');
  writeFileSync(
    join(dir, 'main.prisma'),
    `generator hushfield {\n  provider = "node ${GENERATOR_BIN}"\n  output   = "./generated"\n${settings}}\n\n` +
      `datasource db {\n  provider = "postgresql"\n${datasource}}\n`,
  );
  copyFileSync(join(FIXTURES, fixture), join(dir, 'models.prisma'));
  if (!directives(text, 'KEY-STORE').includes('none'))
    copyFileSync(join(FIXTURES, 'key-store.prisma'), join(dir, 'key-store.prisma'));
  return runPrismaGenerate(dir, dir);
}

/** Runs `prisma generate --schema <schema>` from `dir`; collects the output files under dir/generated. */
export async function runPrismaGenerate(
  dir: string,
  schema: string,
  outputDir = join(dir, 'generated'),
): Promise<GenerateResult> {
  const env = {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  };
  delete env.NODE_OPTIONS; // Jest's --experimental-vm-modules is not for Prisma's CLI
  let status = 0;
  let output: string;
  try {
    const result = await execFileAsync(join(ROOT, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', schema], {
      cwd: dir,
      env,
    });
    output = result.stdout + result.stderr;
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    status = typeof failed.code === 'number' ? failed.code : 1;
    output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
  }
  const jsonFile = join(outputDir, 'schema.json');
  const indexFile = join(outputDir, 'index.ts');
  return {
    status,
    output,
    schema:
      status === 0 && existsSync(jsonFile) ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as HushfieldSchema) : null,
    index: status === 0 && existsSync(indexFile) ? readFileSync(indexFile, 'utf8') : null,
    dir,
  };
}

/** Removes a run's temporary directory. */
export function cleanUp(result: GenerateResult): void {
  rmSync(result.dir, { recursive: true, force: true });
}

/** Runs `work` over `items` with at most `limit` in flight (the machine has few cores). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
