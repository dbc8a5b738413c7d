import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HushfieldSchema } from '../metadata';
import { renderFiles, renderJson, writeFiles } from './emit';

const schema: HushfieldSchema = {
  formatVersion: 1,
  keyStoreModel: 'HushfieldKey',
  models: {
    User: {
      name: 'User',
      dbName: 'users',
      idFields: ['id'],
      idGeneration: 'uuid',
      bindRowId: true,
      scopeField: 'tenantId',
      fields: {
        id: { name: 'id', dbName: 'id', kind: 'scalar', type: 'String', isList: false, isRequired: true, isId: true },
      },
      encrypted: { email: { name: 'email', dbName: 'email', mode: 'strict', optional: false } },
      blindIndexes: {
        emailIdx: {
          name: 'emailIdx',
          dbName: 'email_idx',
          source: 'email',
          normalize: ['lowercase', 'trim'],
          bits: 256,
          unique: true,
          optional: false,
        },
      },
      uniqueIndexes: [{ name: 'a_b', fields: ['a', 'b'] }],
    },
  },
};

describe('generator output', () => {
  it('renders JSON that parses back to the same value, one field a line', () => {
    const text = renderJson(schema);
    expect(JSON.parse(text)).toEqual(schema);
    expect(text).toContain(
      '"emailIdx": { "name": "emailIdx", "dbName": "email_idx", "source": "email", "normalize": ["lowercase", "trim"]',
    );
    expect(renderJson({ a: [], b: {}, c: 'x"y' })).toBe('{ "a": [], "b": {}, "c": "x\\"y" }');
  });

  it('writes a typed module and a JSON file holding the same schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hushfield-emit-'));
    try {
      writeFiles(join(dir, 'nested', 'out'), renderFiles(schema, 'schema.prisma'));
      const index = readFileSync(join(dir, 'nested', 'out', 'index.ts'), 'utf8');
      expect(index).toContain("import type { HushfieldSchema } from '@hushfield/prisma';");
      expect(index).toContain('as const satisfies HushfieldSchema;');
      const literal = index.slice(index.indexOf('= ') + 2, index.indexOf(' as const'));
      expect(JSON.parse(literal)).toEqual(schema);
      expect(JSON.parse(readFileSync(join(dir, 'nested', 'out', 'schema.json'), 'utf8'))).toEqual(schema);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
