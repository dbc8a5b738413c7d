import { InvalidArgumentError } from '@hushfield/core';
import type { FieldMeta, HushfieldSchema, IdGeneration, ModelMeta } from '../../metadata';
import type { RowGuard } from './encrypt-data';
import { CreateDraft, type RowServices, UpdatedRow } from './relation-scope';
import { type Args, SchemaView } from '../schema-view';
import { modelMeta, namedRelationField as relation, scalarField as scalar } from '../../metadata.fixture';

const model = (name: string, idGeneration: IdGeneration, fields: FieldMeta[], scopeField?: string): ModelMeta =>
  modelMeta(name, [scalar('id', { type: idGeneration === 'autoincrement' ? 'Int' : 'String' }), ...fields], {
    idGeneration,
    bindRowId: idGeneration !== 'autoincrement',
    ...(scopeField ? { scopeField } : {}),
    encrypted: { secret: { name: 'secret', dbName: 'secret', mode: 'strict', optional: true } },
  });

const team = model('Team', 'cuid', [scalar('slug'), relation('players', 'Player', 'PlayerToTeam')], 'id');
const player = model(
  'Player',
  'uuid',
  [scalar('teamId'), relation('team', 'Team', 'PlayerToTeam', [['teamId'], ['id']])],
  'teamId',
);
const ledger = model('Ledger', 'autoincrement', [relation('entries', 'Entry', 'EntryToLedger')], 'id');
const entry = model(
  'Entry',
  'uuid',
  [scalar('ledgerId', { type: 'Int' }), relation('ledger', 'Ledger', 'EntryToLedger', [['ledgerId'], ['id']])],
  'ledgerId',
);
const view = new SchemaView({
  formatVersion: 1,
  keyStoreModel: 'K',
  models: { Team: team, Player: player, Ledger: ledger, Entry: entry },
} as HushfieldSchema);

function services(rows: Record<string, Args> = {}): RowServices & { reads: number; guards: [string, RowGuard][] } {
  const result = {
    reads: 0,
    guards: [] as [string, RowGuard][],
    view,
    prepare: (_model: ModelMeta, data: Args) => ({ ...data }),
    rewrite: async (_model: ModelMeta, where: unknown) => where,
    read: async (_model: ModelMeta, where: Args) => {
      result.reads++;
      return rows[String(where.slug)] ?? null;
    },
    guard: (model: ModelMeta, guard: RowGuard) => {
      result.guards.push([model.name, guard]);
    },
  };
  return result;
}

describe('CreateDraft: the scope of a row being created', () => {
  it('scope: id with @default(cuid()) generates the id on the client and scopes the row by it', async () => {
    const draft = new CreateDraft(team, { slug: 'a' }, services());
    const scope = await draft.scope();
    expect(scope).toMatch(/^c[0-9a-z]{24}$/);
    expect(draft.data.id).toBe(scope);
  });

  it('a child created under the parent takes the same generated id, asked once', async () => {
    const parent = new CreateDraft(team, { slug: 'a' }, services());
    const items = [{ secret: 'x' }, { secret: 'y' }];
    const scopes = await Promise.all(items.map((item) => parent.child('players', item).scope()));
    expect(scopes[0]).toBe(parent.data.id);
    expect(scopes[1]).toBe(parent.data.id);
    expect(parent.child('players', items[0]).data.teamId).toBeUndefined(); // Prisma fills the foreign key
  });

  it('refuses scope: id when the database generates the id (autoincrement), and a child under such a parent', async () => {
    await expect(new CreateDraft(ledger, {}, services()).scope()).rejects.toThrow(InvalidArgumentError);
    const parent = new CreateDraft(ledger, {}, services());
    await expect(parent.child('entries', { secret: 'x' }).scope()).rejects.toThrow(
      /Entry\.ledgerId names the encryption scope/,
    );
  });

  it('takes an Int scope given by the parent as its decimal string', async () => {
    const parent = new CreateDraft(ledger, { id: 42 }, services());
    expect(await parent.child('entries', {}).scope()).toBe('42');
  });

  it('a connect by another unique reads the id once and pins the connect to it', async () => {
    const s = services({ a: { id: 'team-a' } });
    const draft = new CreateDraft(player, { team: { connect: { slug: 'a' } } }, s);
    expect(await draft.scope()).toBe('team-a');
    expect(await draft.scope()).toBe('team-a');
    expect(s.reads).toBe(1);
    expect(draft.data.team).toEqual({ connect: { slug: 'a', id: 'team-a' } });
  });

  it('a connectOrCreate of a missing row creates it with the id the row was sealed for, and pins the where', async () => {
    const create = { slug: 'new' };
    const draft = new CreateDraft(
      player,
      { team: { connectOrCreate: { where: { slug: 'new' }, create } } },
      services(),
    );
    const scope = await draft.scope();
    const link = (draft.data.team as Args).connectOrCreate as Args;
    expect(link.where).toEqual({ slug: 'new', id: scope });
    expect(draft.child('team', create).data.id).toBe(scope);
  });

  it('a connectOrCreate of an existing row gives its create the existing id, and refuses a create naming another', async () => {
    const create = { slug: 'a' };
    const draft = new CreateDraft(
      player,
      { team: { connectOrCreate: { where: { slug: 'a' }, create } } },
      services({ a: { id: 'team-a' } }),
    );
    expect(await draft.scope()).toBe('team-a');
    expect(draft.child('team', create).data.id).toBe('team-a');
    const conflicting = new CreateDraft(
      player,
      { team: { connectOrCreate: { where: { slug: 'a' }, create: { id: 'other', slug: 'a' } } } },
      services({ a: { id: 'team-a' } }),
    );
    await expect(conflicting.scope()).rejects.toThrow(
      /connectOrCreate's where and create give Team\.id different values/,
    );
  });

  it('a connect naming no row is refused with a typed error', async () => {
    const draft = new CreateDraft(player, { team: { connect: { slug: 'none' } } }, services());
    await expect(draft.scope()).rejects.toMatchObject({ code: 'HUSHFIELD_INVALID_ARGUMENT', argument: 'Player.team' });
  });
});

describe('UpdatedRow: the values an updated row gives the rows created under it', () => {
  it('reads a value the where does not name once, and narrows the where (and records the guard) to it', async () => {
    const svc = services({ a: { id: 't1', slug: 'a' } });
    const where: Args = { slug: 'a' };
    const row = new UpdatedRow(team, svc, { where });
    expect(await row.child('players', { name: 'p' }).scope()).toBe('t1');
    expect(await row.value('id')).toBe('t1');
    expect(svc.reads).toBe(1);
    expect(where).toEqual({ slug: 'a', AND: [{ id: 't1' }] });
    // Re-read by the where as given: an id pinned would not tell that the slug names another row now.
    expect(svc.guards).toEqual([['Team', { values: { id: 't1' }, row: { slug: 'a' } }]]);
  });

  it('keeps the guard of a row found through its parent once a create under it took a value', async () => {
    const guard = { values: { id: 't4' }, row: { id: 't4' } };
    const row = new UpdatedRow(team, services(), { locate: async () => ({ scope: 't4', rowId: 't4', guard }) });
    expect(row.locatedGuard).toBeUndefined();
    expect(await row.child('players', { name: 'p' }).scope()).toBe('t4');
    expect(row.locatedGuard).toBe(guard);
  });

  it('does not read, narrow or guard when the where names the value', async () => {
    const svc = services();
    const where: Args = { id: 't2' };
    expect(await new UpdatedRow(team, svc, { where }).value('id')).toBe('t2');
    expect(svc.reads).toBe(0);
    expect(where).toEqual({ id: 't2' });
    expect(svc.guards).toEqual([]);
  });

  it("an upsert's where is not narrowed to a row read (it would create instead), only to its create's value when no row", async () => {
    const found = services({ a: { id: 't3', slug: 'a' } });
    const upsertWhere: Args = { slug: 'a' };
    const fallback = new CreateDraft(team, { slug: 'a' }, found);
    expect(await new UpdatedRow(team, found, { where: upsertWhere, fallback }).value('id')).toBe('t3');
    expect(upsertWhere).toEqual({ slug: 'a' });
    expect(found.guards).toEqual([]);
    const missing = services();
    const noRowWhere: Args = { slug: 'b' };
    const created = new CreateDraft(team, { id: 'c1', slug: 'b' }, missing);
    expect(await new UpdatedRow(team, missing, { where: noRowWhere, fallback: created }).value('id')).toBe('c1');
    expect(noRowWhere).toEqual({ slug: 'b', id: 'c1' });
  });
});
