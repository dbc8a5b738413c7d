import type { FieldMeta, HushfieldSchema, ModelMeta } from '../../metadata';
import { type Args, SchemaView } from '../schema-view';
import { type RowsReader, skippedRows } from './skipped-rows';

const scalar = (name: string, more: Partial<FieldMeta> = {}): FieldMeta => ({
  name,
  dbName: name,
  kind: 'scalar',
  type: 'String',
  isList: false,
  isRequired: true,
  isId: name === 'id',
  ...more,
});
const org: ModelMeta = {
  name: 'Org',
  dbName: 'orgs',
  idFields: ['id'],
  idGeneration: 'uuid',
  bindRowId: true,
  scopeField: 'id',
  fields: {
    id: scalar('id', { isUnique: true }),
    slug: scalar('slug', { isUnique: true }),
    code: scalar('code', { isUnique: true }),
    name: scalar('name', { isUnique: true }),
    nameIdx: scalar('nameIdx', { isUnique: true }),
  },
  encrypted: { name: { name: 'name', dbName: 'name', mode: 'strict', optional: false } },
  blindIndexes: {
    nameIdx: {
      name: 'nameIdx',
      dbName: 'nameIdx',
      source: 'name',
      normalize: [],
      bits: 256,
      unique: true,
      optional: false,
    },
  },
  uniqueIndexes: [],
};
const tenantScoped: ModelMeta = { ...org, name: 'Member', scopeField: 'code' };
const databaseIds: ModelMeta = { ...org, name: 'Ticket', idGeneration: 'autoincrement' };
const view = new SchemaView({
  formatVersion: 1,
  keyStoreModel: 'K',
  models: { Org: org, Member: tenantScoped, Ticket: databaseIds },
} as unknown as HushfieldSchema);

/** A reader over `stored`, recording each where it was asked. */
function reader(stored: Args[]): { read: RowsReader; wheres: Args[] } {
  const wheres: Args[] = [];
  const read: RowsReader = async (_model, where, fields) => {
    wheres.push(where);
    const [[field, condition]] = Object.entries(where);
    const wanted = (condition as { in: unknown[] }).in;
    return stored
      .filter((row) => wanted.includes(row[field]))
      .map((row) => Object.fromEntries(fields.map((name) => [name, row[name]])));
  };
  return { read, wheres };
}

describe('skippedRows', () => {
  it('gives each row the id of the stored row holding one of its plain unique values, read once on first use', async () => {
    const { read, wheres } = reader([
      { id: 'o1', slug: 'acme', code: 'A' },
      { id: 'o2', slug: 'beta', code: 'B' },
    ]);
    const rows = [{ slug: 'acme' }, { slug: 'new', code: 'B' }, { slug: 'new2' }, { id: 'mine', slug: 'acme' }];
    const standsIn = skippedRows(view, org, rows, read);
    expect(wheres).toEqual([]);
    expect(await standsIn?.(0)('id')).toBe('o1');
    expect(await standsIn?.(1)('id')).toBe('o2');
    expect(await standsIn?.(2)('id')).toBeUndefined();
    // A row that gives its id is left out of the reads (it is sealed for its own id).
    expect(wheres).toEqual([{ slug: { in: ['acme', 'new', 'new2'] } }, { code: { in: ['B'] } }]);
  });

  it('never reads an encrypted field or a blind index (no plaintext in a where)', async () => {
    const { read, wheres } = reader([]);
    await skippedRows(view, org, [{ slug: 's', name: 'Secret Name', nameIdx: 'x' }], read)?.(0)('id');
    expect(wheres.map((where) => Object.keys(where)[0])).toEqual(['slug']);
  });

  it('reads at most 1,000 values at a time', async () => {
    const { read, wheres } = reader([{ id: 'last', slug: 's2400' }]);
    const rows = Array.from({ length: 2500 }, (_, i) => ({ slug: `s${i}` }));
    expect(await skippedRows(view, org, rows, read)?.(2400)('id')).toBe('last');
    const sizes = wheres
      .filter((where) => 'slug' in where)
      .map((where) => ((where.slug as { in: unknown[] }).in as unknown[]).length);
    expect(sizes).toEqual([1000, 1000, 500]);
  });

  it('stands in for nothing where the scope is not an id generated on the client', () => {
    const { read } = reader([]);
    expect(skippedRows(view, tenantScoped, [{ slug: 'a' }], read)).toBeUndefined();
    expect(skippedRows(view, databaseIds, [{ slug: 'a' }], read)).toBeUndefined();
  });
});
