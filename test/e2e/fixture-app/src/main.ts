// Writes a patient, reads it back by its email through the blind index (a findFirst with a
// differently written email, and a findUnique on the index column), prints what it read.
import { computedBlindIndex } from '@hushfield/prisma';
import { base, prisma } from './db.js';

const created = await prisma.patient.create({
  data: { tenantId: 'acme', email: 'ada@example.com', emailIdx: computedBlindIndex, notes: 'allergic to penicillin' },
});
const found = await prisma.patient.findFirst({ where: { tenantId: 'acme', email: ' Ada@Example.COM ' } });
const unique = await prisma.patient.findUnique({ where: { emailIdx: 'ada@example.com' } });
// The extended client keeps Prisma's types: `email` is a string, `notes` a string or null.
const email: string | undefined = found?.email;
const notes: string | null | undefined = found?.notes;
console.log(
  JSON.stringify({
    created: created.id,
    found: found?.id,
    email,
    notes,
    unique: unique?.id,
    stats: prisma.$hushfield.stats(),
  }),
);
await base.$disconnect();
