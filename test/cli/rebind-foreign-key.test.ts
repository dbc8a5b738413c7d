/**
 * A model bound to an id that is a foreign key (a profile whose id is its user's): before the
 * extension took that id from the related row, a create nested under the row, or connecting it,
 * sealed its values without the id, and every read of them fails. The way back is the one for
 * an added binding: `migratingBindings` opens them meanwhile, `reencrypt --rebind` seals them
 * again bound to their rows, `status --verify` counts them.
 */
import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import type { HushfieldSchema } from '@hushfield/prisma';
import { DecryptionError } from '@hushfield/core';
import { createCliWorld, schema } from './support';
import type { CliWorld } from './support';

let world: CliWorld;

/** The test schema with Person's id a foreign key to User's (as a profile's to its user's). */
const person = schema.models.Person;
const foreignKeySchema: HushfieldSchema = {
  ...schema,
  models: {
    ...schema.models,
    Person: {
      ...person,
      fields: {
        ...person.fields,
        user: {
          name: 'user',
          dbName: 'user',
          kind: 'object',
          type: 'User',
          isList: false,
          isRequired: true,
          isId: false,
          relationModel: 'User',
          relationFromFields: ['id'],
          relationToFields: ['id'],
        },
      },
    },
  },
};
/** Its values as the extension sealed them when a nested create gave no id: without the row id. */
const unboundSchema: HushfieldSchema = {
  ...schema,
  models: { ...schema.models, Person: { ...person, bindRowId: false } },
};

const client = (options: { schema: HushfieldSchema; migratingBindings?: string[] }) =>
  world.prisma.$extends(fieldEncryption({ ...options, keyring: world.keyring, cache: { ttlMs: 60_000 } }));

beforeAll(async () => {
  world = await createCliWorld();
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('values sealed without the row id are read through migratingBindings and bound by reencrypt --rebind', async () => {
  const id = 'b8c9d0e1-2f3a-4b5c-8d6e-7f8091a2b3c4';
  await client({ schema: unboundSchema }).person.create({
    data: { id, tenantId: 't1', name: 'Hedy Lamarr', city: 'Vienna', cityIdx: computedBlindIndex },
  });
  const [stored] = await world.db.query<{ name: string }>('SELECT name FROM people WHERE id = $1', [id]);
  const app = client({ schema: foreignKeySchema });
  await expect(app.person.findUnique({ where: { id } })).rejects.toThrow(DecryptionError);

  // Meanwhile, listed in migratingBindings, the application reads them.
  const migrating = client({ schema: foreignKeySchema, migratingBindings: ['Person'] });
  expect(await migrating.person.findUnique({ where: { id } })).toMatchObject({ name: 'Hedy Lamarr', city: 'Vienna' });

  const config = { schema: foreignKeySchema };
  const status = await world.runCli(['status', '--model', 'Person', '--verify', '--json'], { config });
  const fields = status.json.models[0].fields as { field: string; unbound?: number }[];
  expect(Object.fromEntries(fields.map((field) => [field.field, field.unbound]))).toEqual({ name: 1, city: 1 });
  const human = await world.runCli(['status', '--model', 'Person', '--verify'], { config });
  expect(human.stdout).toContain('2 value(s) sealed without the binding');
  expect(human.stdout).toContain('hushfield reencrypt --model Person --rebind');

  const run = await world.runCli(['reencrypt', '--model', 'Person', '--rebind', '--json'], { config });
  expect({ code: run.code, failed: run.json.models[0].failed }).toEqual({ code: 0, failed: 0 });
  const [after] = await world.db.query<{ name: string }>('SELECT name FROM people WHERE id = $1', [id]);
  expect(after.name).not.toBe(stored.name);
  expect(await app.person.findUnique({ where: { id } })).toMatchObject({ name: 'Hedy Lamarr', city: 'Vienna' });
  // Bound now: the unbound schema no longer opens them.
  await expect(client({ schema: unboundSchema }).person.findUnique({ where: { id } })).rejects.toThrow(DecryptionError);
});

test('a model bound to an id that is no foreign key is still refused in migratingBindings', () => {
  expect(() => client({ schema: foreignKeySchema, migratingBindings: ['User'] })).toThrow('migratingBindings');
});

test('an Int id that is a foreign key: values sealed without it are read through migratingBindings and bound by reencrypt --rebind', async () => {
  // TicketNote's id is its ticket's (Int): bound since such ids are; notes written before were not.
  const unboundNotes: HushfieldSchema = {
    ...schema,
    models: { ...schema.models, TicketNote: { ...schema.models.TicketNote, bindRowId: false } },
  };
  const ticket = await client({ schema }).ticket.create({ data: { tenantId: 't1', subject: 'rebind' } });
  await client({ schema: unboundNotes }).ticketNote.create({ data: { id: ticket.id, body: 'written unbound' } });
  const app = client({ schema });
  await expect(app.ticketNote.findUnique({ where: { id: ticket.id } })).rejects.toThrow(DecryptionError);
  const migrating = client({ schema, migratingBindings: ['TicketNote'] });
  expect(await migrating.ticketNote.findUnique({ where: { id: ticket.id } })).toMatchObject({
    body: 'written unbound',
  });

  const status = await world.runCli(['status', '--model', 'TicketNote', '--verify', '--json']);
  const fields = status.json.models[0].fields as { field: string; unbound?: number }[];
  expect(Object.fromEntries(fields.map((field) => [field.field, field.unbound]))).toEqual({ body: 1 });

  const run = await world.runCli(['reencrypt', '--model', 'TicketNote', '--rebind', '--json']);
  expect({ code: run.code, failed: run.json.models[0].failed }).toEqual({ code: 0, failed: 0 });
  expect(await app.ticketNote.findUnique({ where: { id: ticket.id } })).toMatchObject({ body: 'written unbound' });
  await expect(client({ schema: unboundNotes }).ticketNote.findUnique({ where: { id: ticket.id } })).rejects.toThrow(
    DecryptionError,
  );
});

test('a BigInt id that is a foreign key: reencrypt --rebind binds the values written without it', async () => {
  const unboundLabels: HushfieldSchema = {
    ...schema,
    models: { ...schema.models, ShipmentLabel: { ...schema.models.ShipmentLabel, bindRowId: false } },
  };
  const id = 9_007_199_254_740_995n;
  await client({ schema }).shipment.create({ data: { id, ref: 'rebind' } });
  await client({ schema: unboundLabels }).shipmentLabel.create({ data: { id, address: 'written unbound' } });
  const app = client({ schema });
  await expect(app.shipmentLabel.findUnique({ where: { id } })).rejects.toThrow(DecryptionError);
  const migrating = client({ schema, migratingBindings: ['ShipmentLabel'] });
  expect(await migrating.shipmentLabel.findUnique({ where: { id } })).toMatchObject({ address: 'written unbound' });

  const run = await world.runCli(['reencrypt', '--model', 'ShipmentLabel', '--rebind', '--json']);
  expect({ code: run.code, failed: run.json.models[0].failed }).toEqual({ code: 0, failed: 0 });
  expect(await app.shipmentLabel.findUnique({ where: { id } })).toMatchObject({ address: 'written unbound' });
  await expect(client({ schema: unboundLabels }).shipmentLabel.findUnique({ where: { id } })).rejects.toThrow(
    DecryptionError,
  );
});
