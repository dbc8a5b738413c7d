#!/usr/bin/env node
// Derives the MySQL/MariaDB and SQLite test schemas from prisma/schema.prisma, so that one file
// says which models and annotations the tests use and every provider runs the same ones.
// What changes per provider, and why:
//   - the datasource provider, and the generator paths (one directory deeper);
//   - scalar lists (`String[]`, `Int[]`) and the indexes over them are dropped with their
//     annotations: neither database has a list column (so no `@matchIndex`, no encrypted
//     `String[]` there: the generator refuses both, with the reason);
//   - `@db.Uuid` becomes `@db.Char(36)` on MySQL; SQLite has no native types, so every `@db.`
//     attribute goes there;
//   - on MySQL every String column that no key, index or relation uses becomes `@db.Text`:
//     an envelope is longer than the default VARCHAR(191) for all but short values (the generator
//     refuses an encrypted field left at the default). Keyed columns (blind indexes among them)
//     stay VARCHAR(191), which every index value fits.
// The derived files are written next to their migrations (prisma/<provider>/schema.prisma) and
// are not committed: `pnpm generate` writes them before generating the clients.
'use strict';
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const SOURCE = path.join(root, 'prisma', 'schema.prisma');

/** The providers derived from the PostgreSQL schema, with their directory under prisma/. */
const PROVIDERS = { mysql: 'mysql', sqlite: 'sqlite' };

/**
 * Columns that outgrow TEXT's 64 KB on MySQL: a checkpoint's or a range's `detail` holds up to
 * 10,000 pending primary keys (the CLI's MAX_PENDING), a few hundred KB.
 */
const LONG_TEXT = new Set(['HushfieldCheckpoint.detail', 'HushfieldRange.detail']);

/** Field names a model's block attributes or relations use as keys or in indexes. */
function keyedFields(lines) {
  const keyed = new Set();
  for (const line of lines) {
    const trimmed = line.trim();
    const list = /^@@(?:id|unique|index)\(\[([^\]]*)\]/.exec(trimmed);
    if (list) for (const name of list[1].split(',')) keyed.add(name.trim());
    const fields = /@relation\([^)]*fields:\s*\[([^\]]*)\]/.exec(trimmed);
    if (fields) for (const name of fields[1].split(',')) keyed.add(name.trim());
    const field = /^(\w+)\s+\S+.*@(?:id|unique)\b/.exec(trimmed);
    if (field) keyed.add(field[1]);
  }
  return keyed;
}

/** Model and field names that other models' relations reference (`references: [...]`). */
function referencedFields(text) {
  const referenced = new Set();
  for (const match of text.matchAll(/^\s*\w+\s+(\w+)\??\s+@relation\([^)]*references:\s*\[([^\]]*)\]/gm)) {
    for (const name of match[2].split(',')) referenced.add(`${match[1]}.${name.trim()}`);
  }
  return referenced;
}

/** Rewrites one model block's body lines for `provider`. */
function deriveModel(model, lines, provider, referenced) {
  const keyed = keyedFields(lines);
  const dropped = new Set();
  const out = [];
  let docs = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed.startsWith('///')) {
      docs.push(line);
      continue;
    }
    const field = /^(\w+)\s+(\w+)(\[\])?(\?)?/.exec(trimmed);
    if (field && !trimmed.startsWith('@@')) {
      const [, name, type, list] = field;
      if (list && /^(String|Int|BigInt|Float|Boolean|DateTime|Decimal|Json|Bytes)$/.test(type)) {
        dropped.add(name);
        docs = [];
        continue;
      }
      let rewritten = line;
      if (provider === 'mysql') rewritten = rewritten.replace('@db.Uuid', '@db.Char(36)');
      else rewritten = rewritten.replace(/\s*@db\.\w+(\([^)]*\))?/, '');
      const isKeyed = keyed.has(name) || referenced.has(`${model}.${name}`);
      if (provider === 'mysql' && type === 'String' && !list && !isKeyed && !/@db\./.test(rewritten)) {
        const text = LONG_TEXT.has(`${model}.${name}`) ? '@db.MediumText' : '@db.Text';
        rewritten = rewritten.replace(/^(\s*\w+\s+String\??)/, `$1 ${text}`);
      }
      out.push(...docs, rewritten);
      docs = [];
      continue;
    }
    const index = /^@@index\(\[([^\]]*)\]/.exec(trimmed);
    if (index && index[1].split(',').some((name) => dropped.has(name.trim()))) {
      docs = [];
      continue;
    }
    out.push(...docs, line.replace(/,\s*type:\s*Gin/, ''));
    docs = [];
  }
  out.push(...docs);
  return out;
}

/** The schema text for `provider`, derived from the PostgreSQL schema's text. */
function deriveSchema(text, provider) {
  const referenced = referencedFields(text);
  const lines = text.split('\n');
  const out = [
    `// Derived from prisma/schema.prisma by scripts/provider-schema.js for ${provider}: do not edit.`,
    '// See that script for what differs from the PostgreSQL schema, and why.',
    '',
  ];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const model = /^model\s+(\w+)\s*\{/.exec(line);
    if (!model) {
      out.push(
        line
          .replace(/provider = "postgresql"/, `provider = "${provider}"`)
          .replace('node ../packages/prisma/dist/', 'node ../../packages/prisma/dist/'),
      );
      continue;
    }
    const body = [];
    let j = i + 1;
    while (lines[j].trim() !== '}') body.push(lines[j++]);
    out.push(line, ...deriveModel(model[1], body, provider, referenced), lines[j]);
    i = j;
  }
  return out.join('\n');
}

/** Writes every derived schema; returns their paths, relative to the repository. */
function writeProviderSchemas() {
  const text = readFileSync(SOURCE, 'utf8');
  return Object.entries(PROVIDERS).map(([provider, dir]) => {
    const file = path.join(root, 'prisma', dir, 'schema.prisma');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, deriveSchema(text, provider));
    return path.relative(root, file);
  });
}

module.exports = { deriveSchema, writeProviderSchemas, PROVIDERS };

if (require.main === module) {
  for (const file of writeProviderSchemas()) process.stdout.write(`${file}\n`);
}
