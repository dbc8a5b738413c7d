/**
 * Adopting a plaintext `String[]` whose elements are in a bounded column (`Locker.codes`,
 * PostgreSQL `varchar(300)[]`): a 200-character element fits as plaintext, its envelope does
 * not. `reencrypt` checked a scalar's envelope against its column but skipped lists, so
 * PostgreSQL refused the batch's write with a raw error. Such a row is now reported as failed
 * (`HUSHFIELD_INVALID_ARGUMENT`, naming the field, never the value) and left as it was, and the
 * run goes on with the others.
 */
import { describeOn } from '../support/provider';
import { appClient, createCliWorld, type CliWorld, schema } from './support';

const longCode = 'gate-'.padEnd(200, '9');

describeOn(['postgresql'], 'only PostgreSQL has list columns')(
  'adopting a list with an element too long for its column',
  () => {
    let world: CliWorld;

    beforeAll(async () => {
      world = await createCliWorld();
    }, 120_000);
    afterAll(async () => {
      await world?.close();
    });

    it('leaves such a row as it was and reports it, and encrypts the others', async () => {
      await world.db.query(
        "INSERT INTO lockers (id, site_code, owner, owner_idx, codes) VALUES ('l-long', 'SITE-301', 'Ada', '', $1), " +
          "('l-short', 'SITE-302', 'Bo', '', $2)",
        [['door-1', longCode], ['door-2']],
      );
      // The fields in `migrating` mode, as for an adoption of existing data.
      const migrating = structuredClone(schema) as unknown as {
        models: Record<string, { encrypted: Record<string, { mode: string }> }>;
      };
      for (const meta of Object.values(migrating.models.Locker!.encrypted)) meta.mode = 'migrating';
      const result = await world.runCli(['reencrypt', '--model', 'Locker', '--json'], {
        config: { schema: migrating as unknown as typeof schema },
      });
      expect(result.stdout + result.stderr).not.toContain('99999999');
      expect(result.code).toBe(3);
      const [report] = result.json.models;
      expect(report).toMatchObject({ model: 'Locker', written: 1, failed: 1 });
      expect(report.failures).toEqual([
        expect.objectContaining({ field: 'codes', code: 'HUSHFIELD_INVALID_ARGUMENT' }),
      ]);
      expect(report.failures[0].message).toMatch(/the sealed value is longer than its VarChar\(300\) column holds/);
      const [left] = await world.db.query<{ owner: string; codes: string[] }>(
        "SELECT owner, codes FROM lockers WHERE id = 'l-long'",
      );
      expect(left).toEqual({ owner: 'Ada', codes: ['door-1', longCode] });
      const app = appClient(world);
      expect(await app.locker.findUnique({ where: { id: 'l-short' }, select: { owner: true, codes: true } })).toEqual({
        owner: 'Bo',
        codes: ['door-2'],
      });
    });
  },
);
