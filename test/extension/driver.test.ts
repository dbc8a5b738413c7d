/**
 * Each Jest project runs the suites through the driver adapter it names: the `sqlite` project
 * through better-sqlite3, `libsql` through @prisma/adapter-libsql (test/support/database.ts),
 * and the extension treats a one-writer database as such (keys are not created inside an
 * interactive transaction there, see transactions.test.ts).
 */
import { createHarness, type Harness } from './support';
import { testProvider } from '../support/provider';

describe('the driver adapter of this project', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('is the one the project names', () => {
    const adapter = (h.base as unknown as { _engineConfig: { adapter: { adapterName: string } } })._engineConfig
      .adapter;
    const expected: Record<string, RegExp> = {
      postgresql: /adapter-pg|pglite/,
      mysql: /adapter-mariadb/,
      sqlite: process.env.HUSHFIELD_SQLITE_DRIVER === 'libsql' ? /^@prisma\/adapter-libsql$/ : /better-sqlite3/,
    };
    expect(adapter.adapterName).toMatch(expected[testProvider()]);
  });
});
