/**
 * Fills `users` for the read benchmarks with SQL, never timed. Prisma's `createMany` costs
 * about 0.4 ms a row here, plaintext or not, which made seeding 110,000 rows one of the
 * largest costs of `pnpm bench`; one `INSERT ... SELECT unnest(...)` per 10,000 rows takes
 * a fraction of that. Encrypted rows are sealed with the same `FieldCrypto` calls the
 * extension makes for a create (one DEK per row, the row id and scope bound, blind indexes
 * from the generated schema metadata), so they are what the extension would have written:
 * every read benchmark decrypts them through the extension, which fails loudly otherwise.
 */
import { randomUUID } from 'node:crypto';
import type { FieldCrypto } from '@hushfield/core';
import { blindIndexSpec, type ModelMeta } from '@hushfield/prisma';
import { hushfieldSchema } from '../../prisma/generated/hushfield';
import type { TestDatabase } from '../../test/support/database';
import type { PlainUserInput, UserInput } from './fixtures';

/** A `users` row as stored, by Prisma field name: id set, index columns filled. */
type StoredUser = Readonly<Record<(typeof COLUMNS)[number][0], string>>;

const USER: ModelMeta = hushfieldSchema.models.User;
/** Prisma field name and column of what is inserted. */
const COLUMNS = [
  ['id', 'id'],
  ['tenantId', '"tenantId"'],
  ['name', 'name'],
  ['email', 'email'],
  ['emailIdx', 'email_idx'],
  ['ssn', 'ssn'],
  ['ssnIdx', 'ssn_idx'],
  ['notes', 'notes'],
] as const;
/** Rows per INSERT: one statement, well under PostgreSQL's parameter and memory limits. */
const INSERT_ROWS = 10_000;

async function insertUsers(db: TestDatabase, rows: readonly StoredUser[]): Promise<string[]> {
  const columns = COLUMNS.map(([, column]) => column).join(', ');
  if (db.provider !== 'postgresql') {
    await insertValues(
      db,
      `INSERT INTO users (${columns})`,
      rows.map((row) => COLUMNS.map(([key]) => row[key])),
    );
    return rows.map((row) => row.id);
  }
  for (let i = 0; i < rows.length; i += INSERT_ROWS) {
    const part = rows.slice(i, i + INSERT_ROWS);
    await db.query(
      `INSERT INTO users (${columns})
       SELECT * FROM unnest(${COLUMNS.map((_, i) => `$${i + 1}::text[]`).join(', ')})`,
      COLUMNS.map(([key]) => part.map((row) => row[key])),
    );
  }
  return rows.map((row) => row.id);
}

/** Rows per multi-row VALUES insert on MySQL and SQLite (under SQLite's 32,766 parameters). */
const VALUES_ROWS = 1_000;

/** `insert` followed by multi-row `VALUES` lists of `rows`, in statements of {@link VALUES_ROWS}. */
async function insertValues(db: TestDatabase, insert: string, rows: readonly (readonly string[])[]): Promise<void> {
  for (let i = 0; i < rows.length; i += VALUES_ROWS) {
    const part = rows.slice(i, i + VALUES_ROWS);
    let n = 0;
    const values = part.map((row) => `(${row.map(() => `$${++n}`).join(', ')})`).join(', ');
    await db.query(`${insert} VALUES ${values}`, part.flat());
  }
}

/**
 * Inserts plaintext rows (the plain client's view: index columns hold the plaintext keys).
 * @returns the rows' ids, in order
 */
export async function insertPlainUsers(db: TestDatabase, rows: readonly PlainUserInput[]): Promise<string[]> {
  return insertUsers(
    db,
    rows.map((row) => ({ ...row, id: randomUUID() })),
  );
}

/**
 * Inserts rows encrypted as the hushfield extension's `create` would: a UUID id, every
 * encrypted field sealed under one fresh DEK of the row's scope (`tenantId`) with the id
 * bound, every blind index computed from its source field.
 * @param crypto - a `FieldCrypto` on the same keyring and key store the readers use
 * @returns the rows' ids, in order
 */
export async function insertEncryptedUsers(
  db: TestDatabase,
  crypto: FieldCrypto,
  rows: readonly UserInput[],
): Promise<string[]> {
  const stored: StoredUser[] = [];
  for (const row of rows) {
    const out: Record<string, string> = { ...row, id: randomUUID() };
    const encryptor = await crypto.rowEncryptor(row.tenantId);
    try {
      for (const field of Object.values(USER.encrypted)) {
        out[field.name] = encryptor.encrypt(row[field.name as keyof UserInput], {
          model: USER.dbName,
          field: field.dbName,
          rowId: out.id,
        });
      }
    } finally {
      encryptor.dispose();
    }
    for (const index of Object.values(USER.blindIndexes)) {
      out[index.name] = await crypto.blindIndex(blindIndexSpec(USER, index), row[index.source as keyof UserInput]);
    }
    stored.push(out as StoredUser);
  }
  return insertUsers(db, stored);
}

const POST: ModelMeta = hushfieldSchema.models.Post;

/** The body of post `k` of author `i`: about the length of a short comment. */
export function postBody(i: number, k: number): string {
  return `Post ${k} of author ${i}: notes from the quarterly review, nothing confidential beyond this line.`;
}

/**
 * Inserts `perAuthor` posts for each of `authorIds` with SQL, the body in plaintext or (with
 * `crypto`) sealed as the extension's create seals it (`Post` is unscoped and unbound: one
 * DEK per post under the `default` scope).
 */
export async function insertPosts(
  db: TestDatabase,
  authorIds: readonly string[],
  perAuthor: number,
  crypto?: FieldCrypto,
): Promise<void> {
  const titles: string[] = [];
  const bodies: string[] = [];
  const authors: string[] = [];
  const body = POST.encrypted.body;
  for (let i = 0; i < authorIds.length; i++) {
    for (let k = 0; k < perAuthor; k++) {
      titles.push(`Title ${i}-${k}`);
      authors.push(authorIds[i]);
      if (crypto === undefined) {
        bodies.push(postBody(i, k));
        continue;
      }
      const encryptor = await crypto.rowEncryptor('default');
      try {
        bodies.push(encryptor.encrypt(postBody(i, k), { model: POST.dbName, field: body.dbName }));
      } finally {
        encryptor.dispose();
      }
    }
  }
  if (db.provider !== 'postgresql') {
    const rows = titles.map((title, i) => [title, bodies[i], authors[i]]);
    await insertValues(db, 'INSERT INTO posts (title, body, author_id)', rows);
    return;
  }
  for (let i = 0; i < titles.length; i += INSERT_ROWS) {
    const end = i + INSERT_ROWS;
    await db.query(
      'INSERT INTO posts (title, body, author_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])',
      [titles.slice(i, end), bodies.slice(i, end), authors.slice(i, end)],
    );
  }
}
