/**
 * Every export of every package carries TSDoc (STYLE.md), as the published declarations give it:
 * a comment that lands on another declaration than the one it describes (an interface slipped
 * in between) leaves the export bare in editors and in `dist/*.d.ts`.
 *
 * And the code the READMEs and docs tell a user to write imports only what exists: names the
 * packages export, and modules the generators write (Prisma's `prisma-client` generator has no
 * `index`, so `./generated/client` resolves to nothing; the client is `./generated/client/client`).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../support/tarballs';

const PACKAGES = readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

const entries = PACKAGES.map((name) => join(ROOT, 'packages', name, 'src', 'index.ts'));
let program: ts.Program | undefined;
/** One program over every package's entry point, for both tests (building it takes seconds). */
function packagesProgram(): ts.Program {
  program ??= ts.createProgram(entries, {
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    noEmit: true,
  });
  return program;
}

it('documents every export of every package', () => {
  const program = packagesProgram();
  const checker = program.getTypeChecker();
  const bare = PACKAGES.flatMap((name, i) => {
    const module = checker.getSymbolAtLocation(program.getSourceFile(entries[i])!)!;
    return checker.getExportsOfModule(module).flatMap((exported) => {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const doc = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
      return doc === '' ? [`@hushfield/${name}: ${exported.name}`] : [];
    });
  });
  expect(bare).toEqual([]);
}, 120_000);

/** The Markdown files a user reads: the READMEs, docs/ and each package's docs/. */
function docFiles(): string[] {
  const files = ['README.md', 'examples/quickstart/README.md'];
  const markdownIn = (dir: string) =>
    existsSync(join(ROOT, dir))
      ? readdirSync(join(ROOT, dir))
          .filter((name) => name.endsWith('.md'))
          .map((name) => `${dir}/${name}`)
      : [];
  files.push(...markdownIn('docs'));
  for (const name of PACKAGES) files.push(`packages/${name}/README.md`, ...markdownIn(`packages/${name}/docs`));
  return files;
}

/** Every `import { ... } from '...'` in the TypeScript and JavaScript code blocks of `file`. */
function docImports(file: string): { names: string[]; from: string }[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/^```(?:ts|typescript|js|javascript)\n([\s\S]*?)^```$/gm)].flatMap(([, code]) =>
    [...code.matchAll(/\bimport\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'([^']+)'/g)].map(([, names, from]) => ({
      from,
      names: names
        .split(',')
        .map(
          (name) =>
            name
              .trim()
              .replace(/^type\s+/, '')
              .split(/\s+as\s+/)[0],
        )
        .filter(Boolean),
    })),
  );
}

it("imports in the docs' code name what the packages export and the generators write", () => {
  const program = packagesProgram();
  const checker = program.getTypeChecker();
  const exported = new Map(
    PACKAGES.map((name, i) => [
      `@hushfield/${name}`,
      new Set(
        checker
          .getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entries[i])!)!)
          .map((symbol) => symbol.name),
      ),
    ]),
  );
  // What `pnpm generate` wrote for the repository's own schema: the same generators a user runs.
  const generated = join(ROOT, 'prisma', 'generated');
  const writes = (module: string) =>
    ['.ts', '/index.ts'].some((ext) => existsSync(join(generated, `${module.replace(/\.js$/, '')}${ext}`)));
  const wrong: string[] = [];
  let seen = 0;
  for (const file of docFiles()) {
    for (const { names, from } of docImports(file)) {
      const exports = exported.get(from);
      if (exports) {
        seen++;
        for (const name of names) if (!exports.has(name)) wrong.push(`${file}: ${name} from '${from}'`);
      }
      const inGenerated = /(?:^|\/)generated\/((?:client|hushfield)(?:\/.*)?)$/.exec(posix.normalize(from));
      if (from.startsWith('.') && inGenerated) {
        seen++;
        if (!writes(inGenerated[1])) wrong.push(`${file}: '${from}' is no module the generators write`);
      }
    }
  }
  expect(seen).toBeGreaterThan(20);
  expect(wrong).toEqual([]);
}, 120_000);
