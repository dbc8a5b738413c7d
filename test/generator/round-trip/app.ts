// Run by round-trip.test.ts in a child process: writes and reads through the extension on the
// client generated for schema.prisma, and prints what it read as JSON.
import { randomBytes } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { LocalKeyring } from '@hushfield/core';
import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import { PrismaClient } from './generated/client/client';
import { hushfieldSchema } from './generated/hushfield';

async function main(): Promise<void> {
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.ROUND_TRIP_URL! }) });
  const keyring = new LocalKeyring(randomBytes(32));
  const prisma = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring }));
  const id = '0b9d3c1e-5f1a-4c6e-9d2b-7a8e4f3c2d10';
  await prisma.authUser.create({
    data: {
      id,
      phone: '+44 20 7946 0001',
      sessions: { create: { userAgent: 'Firefox/Secret-Agent' } },
      profile: { create: { mail: 'Ada@Example.com', mailIdx: computedBlindIndex, settings: { ssn: '078-05-1120' } } },
    },
  });
  const created = await prisma.profile.findFirst({ where: { mail: ' ada@example.com ' } });
  await prisma.profile.update({ where: { id }, data: { phones: ['+1 555 0142', '+1 555 0143'] } });
  await prisma.authUser.update({ where: { id }, data: { phone: '+44 20 7946 0002' } });
  const read = await prisma.authUser.findUnique({ where: { id }, include: { sessions: true, profile: true } });
  // A profile whose id (its user's) comes from the user it connects.
  const other = 'c3a1f9e2-7b4d-4e8a-9f1c-2d5e6a7b8c9d';
  await prisma.authUser.create({ data: { id: other } });
  await prisma.profile.create({
    data: { mail: 'grace@example.com', mailIdx: computedBlindIndex, user: { connect: { id: other } } },
  });
  const connected = await prisma.profile.findUnique({ where: { id: other } });
  // One created under an update of its user.
  const third = 'e7d6c5b4-a392-4817-b6a5-948372615f0e';
  await prisma.authUser.create({ data: { id: third } });
  await prisma.authUser.update({
    where: { id: third },
    data: { profile: { create: { mail: 'edsger@example.com', mailIdx: computedBlindIndex } } },
  });
  const underUpdate = await prisma.profile.findUnique({ where: { id: third } });
  // A new id for the organization would cascade (ON UPDATE CASCADE, Prisma's default) to its
  // billing's, which the billing's values are bound to.
  await prisma.organization.create({
    data: { id: 'acme', name: 'Acme', billing: { create: { taxId: 'GB 123 4567 89' } } },
  });
  const renamed = await prisma.organization.update({ where: { id: 'acme' }, data: { id: 'acme-2' } }).then(
    () => 'updated',
    (error: { code?: string }) => error.code,
  );
  // So would linking the billing to another organization: its id would become that one's.
  await prisma.organization.create({ data: { id: 'initech', name: 'Initech' } });
  const relinked = await prisma.billing
    .update({ where: { id: 'acme' }, data: { organization: { connect: { id: 'initech' } } } })
    .then(
      () => 'updated',
      (error: { code?: string }) => error.code,
    );
  const afterRename = await prisma.billing.findFirst();
  // A billing sealed without its id, as a nested create was before the id was bound: refused,
  // and read while the model is listed in migratingBindings.
  const models = { ...hushfieldSchema.models, Billing: { ...hushfieldSchema.models.Billing, bindRowId: false } };
  const unbound = base.$extends(fieldEncryption({ schema: { ...hushfieldSchema, models }, keyring }));
  await unbound.organization.create({
    data: { id: 'globex', name: 'Globex', billing: { create: { taxId: 'US 98 7654' } } },
  });
  const legacy = await prisma.billing.findUnique({ where: { id: 'globex' } }).then(
    () => 'read',
    (error: { code?: string }) => error.code,
  );
  const migrating = base.$extends(
    fieldEncryption({ schema: hushfieldSchema, keyring, migratingBindings: ['Billing'] }),
  );
  const migrated = await migrating.billing.findUnique({ where: { id: 'globex' } });
  process.stdout.write(
    JSON.stringify({ created, read, connected, underUpdate, renamed, relinked, afterRename, legacy, migrated }),
  );
  await base.$disconnect();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
