// Lint for the whole repository. Prettier formats; this catches what formatting cannot:
// lines over 120 columns that Prettier leaves long (comments, strings), unused code, and the
// TypeScript mistakes typescript-eslint's recommended set knows.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/generated/**', 'dist-tarballs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { '@stylistic': stylistic },
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@stylistic/max-len': [
        'error',
        { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true, ignoreStrings: true, ignoreTemplateLiterals: true },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // On the per-value paths: Node's global `Buffer` is an accessor on globalThis, so every use
    // calls a getter (about 10 ns, several times a value); the imported binding is a plain load.
    files: ['packages/{core,prisma,cli}/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: "Import it: import { Buffer } from 'node:buffer' (the global is a getter)." },
      ],
    },
  },
  {
    // Work that reaches a database or a keyring fans out with core's settleAll: Promise.all
    // rejects while the rest still runs, and that work then queried a client its caller had
    // closed, which reopened the pool and kept the process alive (see packages/core/src/settle-all.ts).
    files: ['packages/*/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'Promise',
          property: 'all',
          message: "Use settleAll from '@hushfield/core': it rejects only once every started promise settled.",
        },
      ],
    },
  },
  {
    // Type-level tests: values exist to be checked by the compiler, not used.
    files: ['test/types/**'],
    rules: { '@typescript-eslint/no-unused-vars': 'off' },
  },
);
