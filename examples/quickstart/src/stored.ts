/**
 * What the database really stores, read with raw SQL through PGlite: no Prisma, no hushfield.
 * The demo prints these rows next to what the application reads.
 */
import type { PGlite } from '@electric-sql/pglite';

/** A `patients` row exactly as stored. */
export interface StoredPatient {
  readonly id: string;
  readonly tenant_id: string;
  readonly mrn: string;
  readonly name: string;
  readonly email: string;
  readonly email_idx: string;
  readonly ssn: string | null;
  readonly ssn_idx: string | null;
  readonly diagnosis_notes: string | null;
}

/** The stored `patients` rows, by medical record number, optionally for one tenant. */
export async function storedPatients(db: PGlite, tenantId?: string): Promise<StoredPatient[]> {
  const sql =
    'SELECT id, tenant_id, mrn, name, email, email_idx, ssn, ssn_idx, diagnosis_notes FROM patients' +
    (tenantId === undefined ? '' : ' WHERE tenant_id = $1') +
    ' ORDER BY mrn';
  return (await db.query<StoredPatient>(sql, tenantId === undefined ? [] : [tenantId])).rows;
}

/** How many stored patients carry `ssnIdx` (a truncated index matches several rows by design). */
export async function countBySsnIndex(db: PGlite, ssnIdx: string): Promise<number> {
  const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM patients WHERE ssn_idx = $1', [ssnIdx]);
  return rows.rows[0].n;
}

/**
 * The values in `secrets` that appear anywhere in the clinic's tables (every column of every
 * row, compared case-insensitively). The demo expects none.
 */
export async function plaintextFound(db: PGlite, secrets: readonly string[]): Promise<string[]> {
  const dump = await db.query<{ row: string }>(
    'SELECT lower(row_to_json(p)::text) AS row FROM patients p ' +
      'UNION ALL SELECT lower(row_to_json(v)::text) FROM visits v',
  );
  const text = dump.rows.map((r) => r.row).join('\n');
  return secrets.filter((secret) => text.includes(secret.toLowerCase()));
}

/** Number of stored rows per table, to tell a first run from a later one. */
export async function rowCounts(db: PGlite): Promise<{ tenants: number; patients: number; keys: number }> {
  const result = await db.query<{ tenants: number; patients: number; keys: number }>(
    'SELECT (SELECT count(*)::int FROM tenants) AS tenants, (SELECT count(*)::int FROM patients) AS patients, ' +
      '(SELECT count(*)::int FROM hushfield_keys) AS keys',
  );
  return result.rows[0];
}

/** Empties the clinic's tables and the key store, for a fresh round on an existing database. */
export async function emptyTables(db: PGlite): Promise<void> {
  await db.exec('TRUNCATE tenants, patients, visits, hushfield_keys, hushfield_checkpoints');
}
