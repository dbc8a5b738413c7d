import { nulRefusal } from './text-nul';

describe('nulRefusal', () => {
  it('names why PostgreSQL, CockroachDB and libSQL cannot store text holding U+0000', () => {
    expect(nulRefusal({ _activeProvider: 'postgresql' })).toBe('postgresql text cannot hold one');
    expect(nulRefusal({ _engineConfig: { activeProvider: 'cockroachdb' } })).toBe('cockroachdb text cannot hold one');
    const libsql = { _engineConfig: { activeProvider: 'sqlite', adapter: { adapterName: '@prisma/adapter-libsql' } } };
    expect(nulRefusal(libsql)).toBe('the libSQL driver cuts text at one');
  });

  it('refuses nothing where text holds it, or where the client tells nothing', () => {
    expect(nulRefusal({ _activeProvider: 'mysql' })).toBeUndefined();
    const sqlite = {
      _engineConfig: { activeProvider: 'sqlite', adapter: { adapterName: '@prisma/adapter-better-sqlite3' } },
    };
    expect(nulRefusal(sqlite)).toBeUndefined();
    expect(nulRefusal(null)).toBeUndefined();
    expect(nulRefusal({})).toBeUndefined();
  });
});
