/**
 * The demo's application-side steps, in order. Each prints what it does, what the application
 * sees and what the database stores, and checks its own claim: a failed check prints ✗ and makes
 * the demo exit with code 1 (the end-to-end test relies on it).
 */
import type { PGlite } from '@electric-sql/pglite';
import { HushfieldError, KeyDestroyedError, UnsupportedQueryError } from '@hushfield/core';
import { computedBlindIndex } from '@hushfield/prisma';
import type { Clinic } from './clinic';
import { TENANTS } from './fixtures';
import { bold, dim, green, note, red, say, short, step, table } from './print';
import { countBySsnIndex, plaintextFound, storedPatients } from './stored';

/** What the steps share. */
export interface DemoContext {
  readonly db: PGlite;
  readonly clinic: Clinic;
  /** Builds another application client on the same database, with a cold key cache. */
  readonly freshClinic: () => Clinic;
}

/** Reports a failed expectation: the demo goes on, and exits with code 1. */
export function fail(message: string): void {
  say(red(`✗ ${message}`));
  process.exitCode = 1;
}

const ALL_PATIENTS = TENANTS.flatMap((t) => t.patients.map((p) => ({ ...p, tenantId: t.id })));

/** Step: the application writes both tenants' patients (with one visit each). */
export async function writePatients({ clinic }: DemoContext): Promise<void> {
  step('The application writes patients for two tenants');
  const { prisma } = clinic;
  for (const tenant of TENANTS) {
    await prisma.tenant.create({ data: { id: tenant.id, name: tenant.name } });
    for (const p of tenant.patients) {
      await prisma.patient.create({
        data: {
          tenantId: tenant.id,
          mrn: p.mrn,
          name: p.name,
          email: p.email,
          emailIdx: computedBlindIndex, // "compute it": the extension writes the keyed index
          ssn: p.ssn,
          diagnosisNotes: p.diagnosisNotes,
          visits: { create: { tenantId: tenant.id, visitedAt: new Date('2026-11-02T09:30:00Z'), notes: p.visitNotes } },
        },
      });
    }
  }
  say(
    `prisma.patient.create({ data: { name, email, emailIdx: computedBlindIndex, ssn, diagnosisNotes, visits: { create: {...} } } })`,
  );
  table(ALL_PATIENTS.map((p) => ({ tenant: p.tenantId, mrn: p.mrn, name: p.name, email: p.email, ssn: p.ssn })));
}

/** Step: one patient as the application reads it and as the database stores it. */
export async function compareStored({ db, clinic }: DemoContext): Promise<void> {
  step('What the application reads, and what the database stores');
  const patient = await clinic.prisma.patient.findFirstOrThrow({ where: { mrn: 'N-1001' }, include: { visits: true } });
  const [stored] = (await storedPatients(db, 'northside')).filter((row) => row.mrn === 'N-1001');
  say(`prisma.patient.findFirst({ where: { mrn: 'N-1001' } })  vs  SELECT * FROM patients (raw SQL)`);
  table([
    { column: 'name', 'application reads': patient.name, 'database stores': short(stored.name) },
    { column: 'email', 'application reads': patient.email, 'database stores': short(stored.email) },
    { column: 'email_idx', 'application reads': dim('(blind index)'), 'database stores': short(stored.email_idx) },
    { column: 'ssn', 'application reads': patient.ssn ?? 'NULL', 'database stores': short(stored.ssn) },
    { column: 'ssn_idx', 'application reads': dim('(blind index)'), 'database stores': short(stored.ssn_idx) },
    {
      column: 'diagnosis_notes',
      'application reads': short(patient.diagnosisNotes, 36),
      'database stores': short(stored.diagnosis_notes),
    },
  ]);
  say(`visit notes: "${patient.visits[0]?.notes}" (stored encrypted in visits.notes)`);
  say(`A stored email is ${stored.email.length} characters for a ${patient.email.length}-character address.`);
  say(`stored envelope: ${stored.email}`);
  const secrets = ALL_PATIENTS.flatMap((p) => [p.name, p.email, p.ssn, p.diagnosisNotes, p.visitNotes]);
  const leaked = await plaintextFound(db, secrets);
  if (leaked.length === 0) {
    say(
      green(
        `✓ none of the ${secrets.length} sensitive values written appears anywhere in the patients or visits tables`,
      ),
    );
  } else {
    fail(`${leaked.length} sensitive values found in plaintext`);
  }
}

/** Step: equality lookups go through the blind indexes, never through plaintext. */
export async function lookups({ db, clinic }: DemoContext): Promise<void> {
  step('Finding patients by email and by SSN through blind indexes');
  const { prisma, sent } = clinic;
  const typed = '  Ada.Okafor@EXAMPLE.com ';
  const before = sent.length;
  const byEmail = await prisma.patient.findFirst({ where: { email: typed } });
  say(
    `findFirst({ where: { email: '${typed}' } })  →  ${byEmail ? `found ${byEmail.mrn} ${byEmail.name}` : 'not found'}`,
  );
  const emailQuery = sent.slice(before).find((q) => q.query.includes('"patients"'));
  if (emailQuery) {
    say(dim(`SQL sent: …${short(emailQuery.query.slice(emailQuery.query.indexOf('WHERE')), 70)}`));
    say(
      dim(`parameters: ${short(emailQuery.params, 70)}  (a keyed HMAC of "ada.okafor@example.com", not the address)`),
    );
  }

  if (byEmail?.mrn !== 'N-1001') fail('the email lookup did not find N-1001');
  // The unique index column takes the plaintext too: the extension turns it into the index value.
  const unique = await prisma.patient.findUnique({ where: { emailIdx: 'bruno.silva@example.com' } });
  say(
    `findUnique({ where: { emailIdx: 'bruno.silva@example.com' } })  →  ${unique ? `found ${unique.mrn} ${unique.name}` : 'not found'}`,
  );
  if (unique?.mrn !== 'N-1002') fail('the unique lookup did not find N-1002');

  const ssn = '900 34 5678';
  const bySsn = await prisma.patient.findMany({ where: { ssn } });
  say(
    `findMany({ where: { ssn: '${ssn}' } })  →  ${bySsn.map((p) => `found ${p.mrn} ${p.name}`).join(', ') || 'not found'}`,
  );
  if (bySsn.length !== 1 || bySsn[0].mrn !== 'N-1003') fail('the SSN lookup did not find exactly N-1003');
  const [storedMatch] = (await storedPatients(db)).filter((row) => row.mrn === bySsn[0]?.mrn);
  if (storedMatch?.ssn_idx) {
    const candidates = await countBySsnIndex(db, storedMatch.ssn_idx);
    note(
      `ssn_idx keeps 16 bits, so one index value stands for many SSNs: ${candidates} stored row(s) matched it ` +
        'and hushfield decrypted them to drop false positives.',
    );
  }
}

/** Step: a query that would need plaintext in the database is refused before it is sent. */
export async function refusals({ clinic }: DemoContext): Promise<void> {
  step('Queries the database cannot answer without plaintext are refused');
  const { prisma, sent } = clinic;
  const before = sent.length;
  try {
    await prisma.patient.findMany({ where: { email: { contains: 'okafor' } } });
    fail('contains on an encrypted field was not refused');
  } catch (error) {
    if (!(error instanceof UnsupportedQueryError)) throw error;
    say(`findMany({ where: { email: { contains: 'okafor' } } })`);
    say(`  →  ${error.name} [${error.code}]: ${error.message}`);
  }
  const queries = sent.length - before;
  if (queries === 0) say(green('✓ no query reached the database'));
  else fail(`${queries} queries were sent`);
}

/** Reads each tenant's patients with a cold client and reports readable or the error it got. */
export async function readEachTenant(context: DemoContext): Promise<Record<string, string>> {
  const reader = context.freshClinic();
  const outcome: Record<string, string> = {};
  try {
    for (const tenant of TENANTS) {
      try {
        const patients = await reader.prisma.patient.findMany({
          where: { tenantId: tenant.id },
          orderBy: { mrn: 'asc' },
        });
        outcome[tenant.id] = 'readable';
        say(`${tenant.id.padEnd(10)} ${green('readable')}   ${patients.map((p) => `${p.mrn} ${p.name}`).join(', ')}`);
      } catch (error) {
        if (!(error instanceof HushfieldError)) throw error;
        outcome[tenant.id] = error.name;
        const detail =
          error instanceof KeyDestroyedError ? ` (scope '${error.scope}', key version ${error.version})` : '';
        say(`${tenant.id.padEnd(10)} ${red('unreadable')} ${error.name} [${error.code}]${detail}`);
      }
    }
  } finally {
    await reader.base.$disconnect();
  }
  return outcome;
}

/** Prints the key-cache counters against the work done. */
export async function cacheCounters(context: DemoContext): Promise<void> {
  step('Key cache: keyring calls against rows');
  const reader = context.freshClinic();
  try {
    const patients = await reader.prisma.patient.findMany({
      where: { tenantId: 'northside' },
      include: { visits: true },
    });
    const values = patients.reduce((n, p) => n + 4 + p.visits.length, 0);
    const stats = reader.prisma.$hushfield.stats();
    say(`A fresh client read ${patients.length} patients with their visits: ${values} encrypted values.`);
    table([{ ...stats }]);
    say(`${bold(String(stats.keyringCalls))} keyring (KMS) call(s) for ${values} values.`);
    note('Scope keys are unwrapped once and cached; every row has its own data key, unwrapped locally.');
  } finally {
    await reader.base.$disconnect();
  }
  const stats = context.clinic.prisma.$hushfield.stats();
  say(
    `The demo's own client, over the whole run: ${stats.keyringCalls} keyring calls, ${stats.hits} cache hits, ${stats.misses} misses.`,
  );
}
