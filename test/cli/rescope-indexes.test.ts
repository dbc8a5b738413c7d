/**
 * `reencrypt --rescope` moves a value to its row's scope key; a per-scope blind index of
 * that value (keyed by the scope key) must move with it, or lookups in the row's scope miss it
 * and the index stays keyed by the old scope's key (which a shred of the row's scope then does
 * not reach).
 */
import { appClient, createCliWorld } from './support';
import type { CliWorld } from './support';

let world: CliWorld;

beforeAll(async () => {
  world = await createCliWorld();
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('after --rescope, the per-scope index of a moved value is under its new scope (lookups find it)', async () => {
  const app = appClient(world);
  const a = await app.organization.create({ data: { slug: 'org-a', legalName: 'A Ltd' } });
  const b = await app.organization.create({ data: { slug: 'org-b', legalName: 'B Ltd' } });
  const contact = await app.contact.create({ data: { orgId: a.id, email: 'moved@example.org' } });
  // Both scopes are at key version 1. The row's scope changes (as after a change of the model's
  // scope annotation, the values still under the old scope's key).
  await world.db.query('UPDATE contacts SET org_id = $1 WHERE id = $2', [b.id, contact.id]);

  const run = await world.runCli(['reencrypt', '--model', 'Contact', '--rescope', '--json']);
  expect(run.code).toBe(0);
  expect(run.json.models[0]).toMatchObject({ written: 1, failed: 0 });

  const fresh = appClient(world);
  const byId = await fresh.contact.findUnique({ where: { id: contact.id } });
  expect(byId?.email).toBe('moved@example.org'); // the envelope did move
  const found = await fresh.contact.findFirst({ where: { orgId: b.id, email: 'moved@example.org' } });
  expect(found?.id).toBe(contact.id);

  // A second plain run finds nothing to do: the index is under org B's key already.
  const again = await world.runCli(['reencrypt', '--model', 'Contact', '--json']);
  expect(again.json.models[0].written).toBe(0);
});
