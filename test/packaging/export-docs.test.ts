/**
 * Every export of every package carries TSDoc (STYLE.md), as the published declarations give it:
 * a comment that lands on another declaration than the one it describes (an interface slipped
 * in between) leaves the export bare in editors and in `dist/*.d.ts`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../support/tarballs';

const PACKAGES = readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

it('documents every export of every package', () => {
  const entries = PACKAGES.map((name) => join(ROOT, 'packages', name, 'src', 'index.ts'));
  const program = ts.createProgram(entries, {
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    noEmit: true,
  });
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
