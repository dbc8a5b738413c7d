/**
 * `hushfield reencrypt` maintains match indexes: it fills a missing one (a match index added
 * to a table that already holds data), rebuilds one made under another index root version
 * (after `keys rotate --index`) or other parameters (fingerprint), and clears one whose source
 * is null; a second run finds nothing to do.
 */
import { matchFingerprint, matchPositionVersion } from '@hushfield/core';
import { describeOn } from '../support/provider';
import { appClient, createCliWorld, type CliWorld } from './support';

describeOn(['postgresql'], 'match indexes are PostgreSQL integer arrays')('match indexes', () => {
  let world: CliWorld;
  let app: ReturnType<typeof appClient>;
  const NAMES = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Radia Perlman'];
  const nameFingerprint = matchFingerprint({ tokens: 3, bits: 1024, hashes: 3, fold: 'case' });

  beforeAll(async () => {
    world = await createCliWorld();
    app = appClient(world);
    for (const [i, name] of NAMES.entries()) {
      await app.person.create({ data: { tenantId: `t${i % 2}`, name, city: i === 0 ? 'London' : null } });
    }
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  const found = async (query: string) =>
    (await app.person.findMany({ where: { name: { contains: query } } })).map((c) => c.name).sort();

  test('fills match indexes missing from existing rows, then has nothing left to do', async () => {
    await world.db.query('UPDATE people SET name_match = NULL, city_match = NULL');
    expect(await found('Love')).toEqual([]);
    const before = await world.runCli(['status', '--json']);
    const contact = before.json.models.find((m: { model: string }) => m.model === 'Person');
    expect(contact.matchIndexes).toEqual([
      { index: 'nameMatch', source: 'name', versions: {}, missing: 4, otherParameters: 0 },
      { index: 'cityMatch', source: 'city', versions: {}, missing: 1, otherParameters: 0 },
    ]);
    const result = await world.runCli(['reencrypt', '--model', 'Person', '--json']);
    expect(result.code).toBe(0);
    expect(result.json.models[0]).toMatchObject({ model: 'Person', scanned: 4 });
    expect(result.json.models[0].indexed).toBeGreaterThanOrEqual(5); // 4 names + London
    expect(await found('Love')).toEqual(['Ada Lovelace']);
    const rows = await world.db.query<{ name_match: number[]; city_match: number[] | null; city: string | null }>(
      'SELECT name_match, city_match, city FROM people',
    );
    for (const row of rows) {
      expect(row.name_match[0]).toBe(nameFingerprint);
      if (row.city === null) expect(row.city_match ?? []).toEqual([]);
      else expect(row.city_match?.length).toBeGreaterThan(1);
    }
    expect(result.stdout + result.stderr).not.toMatch(/Lovelace|Hopper|London/);
    const again = await world.runCli(['reencrypt', '--model', 'Person', '--json']);
    expect(again.code).toBe(0);
    expect(again.json.models[0].indexed ?? 0).toBe(0);
    const after = await world.runCli(['status']);
    expect(after.stdout).toContain('nameMatch (match index of name): v1: 4');
    expect(after.stdout).not.toMatch(/Lovelace|Hopper|London/);
  });

  test('rebuilds match indexes under the new index root version after an index-key rotation', async () => {
    const rotated = await world.runCli(['keys', 'rotate', '--index', '--wait', '200']);
    expect(rotated.code).toBe(0);
    const result = await world.runCli(['reencrypt', '--model', 'Person', '--json']);
    expect(result.code).toBe(0);
    const rows = await world.db.query<{ name_match: number[] }>('SELECT name_match FROM people');
    for (const row of rows) expect(row.name_match.slice(1).every((p) => matchPositionVersion(p) === 2)).toBe(true);
    const fresh = appClient(world);
    expect((await fresh.person.findMany({ where: { name: { startsWith: 'Gra' } } })).map((c) => c.name)).toEqual([
      'Grace Hopper',
    ]);
  });

  test('rebuilds a value indexed under other parameters (its fingerprint differs)', async () => {
    await world.db.query(`UPDATE people SET name_match = ARRAY[-2100101, 1, 2, 3] WHERE name IS NOT NULL`);
    const status = await world.runCli(['status', '--json']);
    const contact = status.json.models.find((m: { model: string }) => m.model === 'Person');
    expect(contact.matchIndexes[0].otherParameters).toBe(4);
    const result = await world.runCli(['reencrypt', '--model', 'Person', '--json']);
    expect(result.code).toBe(0);
    expect(result.json.models[0].indexed).toBeGreaterThanOrEqual(4);
    // A client started after the rotation (the first one holds the old index root for its cache TTL).
    const fresh = appClient(world);
    expect((await fresh.person.findMany({ where: { name: { contains: 'Turing' } } })).map((c) => c.name)).toEqual([
      'Alan Turing',
    ]);
  });
});
