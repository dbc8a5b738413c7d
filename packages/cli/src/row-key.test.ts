import { ConfigError } from '@hushfield/core';
import type { ModelMeta } from '@hushfield/prisma';
import { PrismaCasWriter, PostgresCasWriter } from './cas-writer';
import { MysqlCasWriter } from './cas-writer-mysql';
import type { CheckpointStore } from './checkpoint';
import type { MigrateOptions } from './migrator';
import { startingPoint } from './migrator-resume';
import { assertRowKeys, rowKeyOf } from './row-key';

const model = (extra: Partial<ModelMeta>): ModelMeta =>
  ({
    name: 'Card',
    dbName: 'cards',
    idFields: [],
    idGeneration: 'none',
    bindRowId: false,
    fields: {},
    encrypted: {},
    blindIndexes: {},
    uniqueIndexes: [],
    ...extra,
  }) as ModelMeta;

const withId = model({ name: 'User', idFields: ['id'] });
const keyed = model({ rowKeyFields: ['venue', 'seat'] });
const unwalkable = model({ rowKeyFields: [] });
const predates = model({});

describe('rowKeyOf', () => {
  it('is the id of a model with an @id, with or without rowKeyFields recorded', () => {
    expect(rowKeyOf(withId)).toEqual(['id']);
  });

  it('is the recorded unique criterion of a model without an @id', () => {
    expect(rowKeyOf(keyed)).toEqual(['venue', 'seat']);
  });

  it('refuses a model with none, naming it and what to add', () => {
    expect(() => rowKeyOf(unwalkable)).toThrow(ConfigError);
    expect(() => rowKeyOf(unwalkable)).toThrow(/^Card has no @id and no unique criterion .* give the model an @id/);
  });

  it('refuses a model without an @id whose metadata predates row keys, asking for prisma generate', () => {
    expect(() => rowKeyOf(predates)).toThrow(/Card has no @id, and its hushfield metadata predates row keys/);
  });

  it('assertRowKeys refuses a list with one such model, and passes one without', () => {
    expect(() => assertRowKeys([withId, keyed])).not.toThrow();
    expect(() => assertRowKeys([withId, unwalkable])).toThrow(ConfigError);
  });
});

describe('the compare-and-swap writers', () => {
  // Before, a writer of an id-less model matched rows by their old values alone (PostgreSQL), by
  // a column named "undefined" (SQLite's lock) or by an empty join (MySQL).
  it.each([
    ['Prisma', () => new PrismaCasWriter({ _activeProvider: 'sqlite' } as never, unwalkable)],
    ['PostgreSQL', () => new PostgresCasWriter({} as never, unwalkable, new Map([['pin', 'text']]))],
    ['MySQL', () => new MysqlCasWriter({} as never, unwalkable)],
  ])('the %s writer refuses a model without a row key before any write', (_, create) => {
    expect(create).toThrow(ConfigError);
  });
});

describe('startingPoint and the key a checkpoint is in', () => {
  const logged: string[] = [];
  const at = (target: ModelMeta, keyFields?: string[]) => {
    const checkpoints = {
      get: async () => ({
        id: 'reencrypt:x',
        cursor: '["a"]',
        state: 'running',
        processed: 4,
        detail: { startedAt: new Date().toISOString(), pending: [], ...(keyFields ? { keyFields } : {}) },
        updatedAt: new Date(),
      }),
    } as unknown as CheckpointStore;
    const options = {
      checkpoints,
      resume: 'auto',
      dryRun: false,
      mode: 'decrypt',
      model: target,
      log: (line: string) => logged.push(line),
    } as unknown as MigrateOptions;
    return startingPoint(options, 'reencrypt:x');
  };

  it('resumes a checkpoint written before keys were recorded for a model with an @id', async () => {
    expect(await at(withId)).toMatchObject({ cursor: '["a"]' });
  });

  it('resumes a checkpoint in the row key', async () => {
    expect(await at(keyed, ['venue', 'seat'])).toMatchObject({ cursor: '["a"]' });
  });

  it('starts over from a checkpoint in other fields, or from one of an id-less model that recorded none', async () => {
    expect(await at(withId, ['code'])).toBeNull();
    expect(await at(keyed, ['venue'])).toBeNull();
    expect(await at(keyed)).toBeNull();
    expect(logged.at(-1)).toContain('Card: the unfinished run');
  });
});
