import {
  asList,
  isLogicalKey,
  isRootPosition,
  logicalPosition,
  narrowed,
  nestedCreates,
  nestedWriteParts,
  operationWherePosition,
} from './arg-shapes';

describe('where positions', () => {
  it('an operation with a unique where starts at uniqueRoot, the others at root', () => {
    for (const op of ['findUnique', 'findUniqueOrThrow', 'update', 'upsert', 'delete'])
      expect(operationWherePosition(op)).toBe('uniqueRoot');
    for (const op of ['findMany', 'findFirst', 'count', 'updateMany', 'deleteMany'])
      expect(operationWherePosition(op)).toBe('root');
  });

  it('AND keeps a root (a unique root becomes a root), OR and NOT nest', () => {
    expect(logicalPosition('AND', 'uniqueRoot')).toBe('root');
    expect(logicalPosition('AND', 'root')).toBe('root');
    expect(logicalPosition('AND', 'unique')).toBe('unique');
    expect(logicalPosition('OR', 'root')).toBe('nested');
    expect(logicalPosition('NOT', 'uniqueRoot')).toBe('nested');
    expect([
      isRootPosition('root'),
      isRootPosition('uniqueRoot'),
      isRootPosition('unique'),
      isRootPosition('nested'),
    ]).toEqual([true, true, false, false]);
    expect(['AND', 'OR', 'NOT', 'and', 'email'].map(isLogicalKey)).toEqual([true, true, true, false, false]);
  });
});

describe('asList', () => {
  it('reads one item or an array as a list', () => {
    expect(asList(undefined)).toEqual([]);
    expect(asList(1)).toEqual([1]);
  });
});

describe('nested writes', () => {
  it('names the where, the created rows and the update data of each operation', () => {
    expect(nestedWriteParts('create', { a: 1 }, true)).toEqual({ creates: [{ a: 1 }] });
    expect(nestedWriteParts('createMany', { data: [{ a: 1 }, { a: 2 }] }, true)).toEqual({
      creates: [{ a: 1 }, { a: 2 }],
    });
    expect(nestedWriteParts('connect', { id: 1 }, false)).toEqual({
      where: { value: { id: 1 }, position: 'unique' },
      creates: [],
    });
    expect(nestedWriteParts('delete', true, false)).toEqual({ creates: [] });
    expect(nestedWriteParts('deleteMany', { a: 1 }, true)).toEqual({
      where: { value: { a: 1 }, position: 'nested' },
      creates: [],
    });
    expect(nestedWriteParts('connectOrCreate', { where: { id: 1 }, create: { a: 1 } }, true)).toEqual({
      where: { value: { id: 1 }, position: 'unique' },
      creates: [{ a: 1 }],
    });
    expect(nestedWriteParts('upsert', { where: { id: 1 }, create: { a: 1 }, update: { a: 2 } }, true)).toEqual({
      where: { value: { id: 1 }, position: 'unique' },
      creates: [{ a: 1 }],
      update: { a: 2 },
    });
    expect(nestedWriteParts('upsert', { create: { a: 1 }, update: { a: 2 } }, false)).toEqual({
      where: undefined,
      creates: [{ a: 1 }],
      update: { a: 2 },
    });
    expect(nestedWriteParts('updateMany', { where: { a: 1 }, data: { a: 2 } }, true)).toEqual({
      where: { value: { a: 1 }, position: 'nested' },
      creates: [],
      update: { a: 2 },
    });
  });

  it('reads a to-one update as the data itself unless it is shaped { where?, data }', () => {
    expect(nestedWriteParts('update', { email: 'x' }, false)).toEqual({ creates: [], update: { email: 'x' } });
    expect(nestedWriteParts('update', { where: { a: 1 }, data: { email: 'x' } }, false)).toEqual({
      where: { value: { a: 1 }, position: 'nested' },
      creates: [],
      update: { email: 'x' },
    });
    expect(nestedWriteParts('update', { where: { id: 1 }, data: { email: 'x' } }, true)).toEqual({
      where: { value: { id: 1 }, position: 'unique' },
      creates: [],
      update: { email: 'x' },
    });
  });

  it("lists every row the nested writes of one relation always create (not an upsert's)", () => {
    const ops = {
      create: [{ n: 1 }],
      createMany: { data: [{ n: 2 }] },
      connectOrCreate: { where: { id: 9 }, create: { n: 3 } },
      connect: { id: 4 },
      upsert: { where: { id: 5 }, create: { n: 5 }, update: {} },
    };
    expect(nestedCreates(ops, true)).toEqual([
      { data: { n: 1 } },
      { data: { n: 2 } },
      { data: { n: 3 }, existing: { id: 9 } },
    ]);
  });
});

describe('narrowed', () => {
  it("sets the condition's keys beside a where that has none of them", () => {
    expect(narrowed({ id: 'u1' }, { tenantId: 't1' })).toEqual({ id: 'u1', tenantId: 't1' });
    expect(narrowed({ email: 'e', AND: [{ name: 'n' }] }, { id: 'u1', tenantId: 7 })).toEqual({
      email: 'e',
      AND: [{ name: 'n' }],
      id: 'u1',
      tenantId: 7,
    });
  });

  it('sets them beside a where that gives the very same primitive values', () => {
    expect(narrowed({ id: 'u1' }, { id: 'u1', tenantId: 't1' })).toEqual({ id: 'u1', tenantId: 't1' });
  });

  it('adds an AND conjunct when a key is there with another value, a filter object, or is logical', () => {
    // a filter object (the guard of a row read as absent) never goes beside: on a unique field
    // Prisma's unique input takes a plain value only
    expect(narrowed({ email: 'e' }, { id: { in: [] } })).toEqual({ email: 'e', AND: [{ id: { in: [] } }] });
    expect(narrowed({ email: 'e' }, { tenantId: null })).toEqual({ email: 'e', AND: [{ tenantId: null }] });
    // a where's own null is a filter (IS NULL), never taken for an absent key
    expect(narrowed({ email: 'e', tenantId: null }, { tenantId: 't1' })).toEqual({
      email: 'e',
      tenantId: null,
      AND: [{ tenantId: 't1' }],
    });
    expect(narrowed({ id: 'U1' }, { id: 'u1', tenantId: 't1' })).toEqual({
      id: 'U1',
      AND: [{ id: 'u1', tenantId: 't1' }],
    });
    expect(narrowed({ id: '7' }, { id: 7 })).toEqual({ id: '7', AND: [{ id: 7 }] });
    expect(narrowed({ tenantId: { in: ['t1'] } }, { tenantId: 't1' })).toEqual({
      tenantId: { in: ['t1'] },
      AND: [{ tenantId: 't1' }],
    });
    expect(narrowed({ id: 'u1', AND: { name: 'n' } }, { AND: [{ tenantId: 't1' }] })).toEqual({
      id: 'u1',
      AND: [{ name: 'n' }, { AND: [{ tenantId: 't1' }] }],
    });
  });

  it("keeps a where's own __proto__ key a key, as a spread does", () => {
    const where = JSON.parse('{"id": "u1", "__proto__": {"polluted": true}}') as Record<string, unknown>;
    const out = narrowed(where, { tenantId: 't1' });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ polluted: true });
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
    expect(out).toMatchObject({ id: 'u1', tenantId: 't1' });
  });

  it('never loses a key to a setter someone put on Object.prototype', () => {
    for (const name of ['tenantId', 'email']) {
      Object.defineProperty(Object.prototype, name, { set() {}, get() {}, configurable: true });
      try {
        const out = narrowed({ id: 'u1', email: 'e' }, { tenantId: 't1' });
        expect(Object.getOwnPropertyDescriptors(out)).toMatchObject({
          id: { value: 'u1' },
          email: { value: 'e' },
          tenantId: { value: 't1' },
        });
      } finally {
        delete (Object.prototype as Record<string, unknown>)[name];
      }
    }
  });

  it('leaves the where it was given unchanged', () => {
    const where = { id: 'u1', AND: [{ name: 'n' }] };
    narrowed(where, { tenantId: 't1' });
    narrowed(where, { id: 'u2' });
    expect(where).toEqual({ id: 'u1', AND: [{ name: 'n' }] });
  });
});
