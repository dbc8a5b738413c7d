/**
 * The TypeScript samples of the READMEs and docs/ that use a keyring compile against the
 * packages' real exports (compiled, never run): each is written out as a module of its own,
 * its `./generated/...` imports pointed at the test schema's generated client. A sample that
 * uses a name it does not import (`MultiKeyring` from `@hushfield/kms-aws`, say) fails here.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');
/** Inside the repository, so that the samples' packages resolve from its node_modules. */
const OUT = join(ROOT, 'node_modules', '.cache', 'hushfield-doc-samples');

/** The Markdown files whose samples are checked. */
function documents(): string[] {
  const packages = readdirSync(join(ROOT, 'packages')).map((name) => join('packages', name, 'README.md'));
  // CONTRACTS.md lists signatures (declarations without bodies), not code to run.
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md') && name !== 'CONTRACTS.md')
    .map((name) => join('docs', name));
  return ['README.md', ...packages, ...docs].filter((path) => {
    try {
      readFileSync(join(ROOT, path));
      return true;
    } catch {
      return false;
    }
  });
}

interface Sample {
  readonly source: string;
  readonly file: string;
  readonly code: string;
}

/** Every `ts` block that names a keyring, as a module of its own. */
function samples(): Sample[] {
  const found: Sample[] = [];
  for (const document of documents()) {
    const text = readFileSync(join(ROOT, document), 'utf8');
    for (const match of text.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)) {
      const code = match[1];
      if (!/Keyring\b/.test(code)) continue;
      const line = text.slice(0, match.index).split('\n').length;
      const file = `${document.replace(/[/.]/g, '_')}_${line}.ts`;
      const generated = relative(OUT, join(ROOT, 'prisma', 'generated'));
      found.push({
        source: `${document}:${line}`,
        file,
        code: `${code.replace(/'\.\/(?:prisma\/)?generated\//g, `'${generated}/`)}\nexport {};\n`,
      });
    }
  }
  return found;
}

/** `@azure/identity` is the user's choice of credential, not a dependency of ours: its type only. */
const AZURE_IDENTITY = `declare module '@azure/identity' {
  import type { TokenCredential } from '@azure/core-auth';
  export class DefaultAzureCredential implements TokenCredential {
    getToken: TokenCredential['getToken'];
  }
}
`;

const all = samples();
let errors: Promise<string>;
beforeAll(() => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  for (const sample of all) writeFileSync(join(OUT, sample.file), sample.code);
  writeFileSync(join(OUT, 'azure-identity.d.ts'), AZURE_IDENTITY);
  const paths = Object.fromEntries(
    readdirSync(join(ROOT, 'packages')).map((name) => [
      `@hushfield/${name}`,
      [relative(OUT, join(ROOT, 'packages', name, 'src', 'index.ts'))],
    ]),
  );
  writeFileSync(
    join(OUT, 'tsconfig.json'),
    JSON.stringify({
      extends: relative(OUT, join(ROOT, 'tsconfig.base.json')),
      compilerOptions: {
        composite: false,
        declaration: false,
        declarationMap: false,
        noEmit: true,
        // the samples use top-level await, as an ES module app would
        module: 'es2022',
        moduleResolution: 'bundler',
        types: ['node'],
        baseUrl: '.',
        paths,
      },
      files: ['azure-identity.d.ts', ...all.map((sample) => sample.file)],
    }),
  );
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  errors = promisify(execFile)(process.execPath, [tsc, '-p', OUT], { cwd: OUT }).then(
    () => '',
    (error: { stdout?: string }) => error.stdout ?? String(error),
  );
});

it('finds the keyring samples', () => {
  expect(all.length).toBeGreaterThan(10);
});

/**
 * The compiler's diagnostics for `file`, and any outside the samples. A sample's queries are
 * written for its README's own models, not the test schema's: what their inputs lack is left out.
 */
async function errorsIn(file: string): Promise<string[]> {
  return (await errors)
    .split(/\n(?=\S)/)
    .filter((diagnostic) => diagnostic.startsWith(file) || !/^[\w.-]+\.ts\(/.test(diagnostic))
    .filter((diagnostic) => diagnostic.trim() !== '' && !/CreateInput/.test(diagnostic));
}

it.each(all.map((sample) => [sample.source, sample.file]))(
  '%s compiles',
  async (_source, file) => {
    expect(await errorsIn(file)).toEqual([]);
  },
  180_000,
);
