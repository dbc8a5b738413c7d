/**
 * `hushfield reencrypt` filling a match index added to a table that already holds a value
 * longer than the index's maxLength: that row cannot be indexed (a write of it would be
 * refused), so it is reported as failed and the run goes on with the others.
 */
import type { HushfieldSchema } from '@hushfield/prisma';
import { describeOn } from '../support/provider';
import { appClient, createCliWorld, schema, type CliWorld } from './support';

describeOn(['postgresql'], 'match indexes are PostgreSQL integer arrays')(
  'match index over existing long values',
  () => {
    let world: CliWorld;

    beforeAll(async () => {
      world = await createCliWorld();
    }, 120_000);
    afterAll(async () => {
      await world?.close();
    });

    test('reencrypt reports a row whose value is over maxLength as failed, never its value, and indexes the others', async () => {
      // Written before the match indexes existed: the application's schema had none.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- as appClient does
      const { fieldEncryption } = require('@hushfield/prisma') as typeof import('@hushfield/prisma');
      const models = JSON.parse(JSON.stringify(schema.models)) as Record<string, { matchIndexes?: unknown }>;
      delete models.Person.matchIndexes;
      const before = world.prisma.$extends(
        fieldEncryption({ schema: { ...schema, models } as unknown as HushfieldSchema, keyring: world.keyring }),
      );
      const long = 'Secretville'.repeat(7); // 77 code points: over cityMatch's maxLength of 64
      const longRow = await before.person.create({ data: { tenantId: 't', name: 'Long City', city: long } });
      await before.person.create({ data: { tenantId: 't', name: 'Short City', city: 'Lyon' } });
      await world.db.query('UPDATE people SET name_match = NULL, city_match = NULL');

      const result = await world.runCli(['reencrypt', '--model', 'Person', '--json']);
      expect(result.stdout + result.stderr).not.toContain('Secretville');
      // The run goes on past that row and reports it, naming the field and the index, not the value...
      expect(result.json.stopped).toBeUndefined();
      expect(result.code).toBe(3);
      const [report] = result.json.models;
      expect(report).toMatchObject({ model: 'Person', scanned: 2, failed: 1 });
      expect(report.failures).toEqual([expect.objectContaining({ field: 'city', code: 'HUSHFIELD_INVALID_ARGUMENT' })]);
      expect(report.failures[0].message).toContain('maxLength');
      // ...and indexes the others; the row it left whole is not found until its value fits.
      const app = appClient(world);
      const found = async (where: object) => (await app.person.findMany({ where })).map((p) => p.name);
      expect(await found({ name: { contains: 'City' } })).toEqual(['Short City']);
      expect(await found({ city: { startsWith: 'Ly' } })).toEqual(['Short City']);
      await before.person.update({ where: { id: longRow.id }, data: { city: 'Lille' } });
      const again = await world.runCli(['reencrypt', '--model', 'Person', '--json']);
      expect(again.json.models[0].failed).toBe(0);
      expect((await found({ name: { contains: 'City' } })).sort()).toEqual(['Long City', 'Short City']);
    });
  },
);
