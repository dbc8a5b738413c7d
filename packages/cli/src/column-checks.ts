/**
 * `doctor`'s column checks: the columns the extension writes envelopes and index values to, or
 * picks keys and binds values by, as the database itself declares them (`information_schema`),
 * against what the extension needs of them. The generator checks the schema's `@db` types; a
 * migration written by hand, or a column altered since, is only seen here. What fails:
 * - an encrypted `String` in a PostgreSQL `character(n)` (padded with spaces when read: no
 *   envelope decrypts), an encrypted `Bytes` in a MySQL `BINARY(n)` (padded with zero bytes);
 * - a scope, bound or bound-id column of fixed length that the schema does not declare
 *   `@db.Char(n)`, on PostgreSQL (the extension cannot refuse a value the column would pad);
 * - the key table's `scope` column in a case-insensitive collation, MySQL's `_ci` or SQLite's
 *   `NOCASE` (a tenant's key lookups answered with another's key: refused, so that tenant cannot write).
 *
 * What warns: the same undeclared fixed-length column on MySQL (values ending in a space), a
 * blind-index, scope or bound column in a case-insensitive collation, the key table's `scope` in
 * one that ignores trailing spaces (MySQL's and MariaDB's PAD SPACE collations, `utf8mb4_bin`
 * among them; SQLite's `RTRIM`: `acme` and `acme ` share a key row, and the second is refused),
 * and a MySQL session without a strict `sql_mode` (an over-long value is cut, not refused).
 * SQLite declares no lengths: only its collations (each column's `COLLATE` clause) are judged.
 */
import type { HushfieldSchema, ModelMeta } from '@hushfield/prisma';
import { boundField } from '@hushfield/prisma';
import { messages } from './messages';
import { declaredCollations } from './sqlite-collations';

/** One column as the database declares it. */
export interface ColumnFact {
  /** The table's database schema, when it is not the connection's own (a model's `@@schema`). */
  readonly schema?: string;
  readonly table: string;
  readonly column: string;
  /** `information_schema` data type, lower case: `character`, `char`, `binary`, `text`... */
  readonly type: string;
  /** MySQL: `information_schema`'s collation name; SQLite: the declared one, upper case (`NOCASE`); `null` for none. */
  readonly collation: string | null;
}

/** What the database says of its columns, for {@link judgeColumns}. */
export interface DatabaseColumns {
  readonly provider: 'postgresql' | 'mysql' | 'sqlite';
  readonly columns: readonly ColumnFact[];
  /** The connection's own schema (PostgreSQL) or database (MySQL): a model's `@@schema` naming it means no other. */
  readonly defaultSchema?: string;
  /** MySQL: whether the session's `sql_mode` is strict (an over-long value is refused, not cut). */
  readonly strict: boolean;
}

/** One problem {@link judgeColumns} found. */
export interface ColumnFinding {
  readonly level: 'fail' | 'warn';
  readonly message: string;
  readonly detail: Readonly<Record<string, string>>;
}

interface RawClient {
  readonly _activeProvider?: string;
  $queryRawUnsafe<T>(sql: string, ...values: unknown[]): Promise<T>;
}

/**
 * Reads the columns of the connection's schema (PostgreSQL), database (MySQL) or main database
 * file (SQLite), and of the schemas (databases) `schemas` names (the models' `@@schema`s);
 * `null` for a client that runs no raw SQL.
 */
export async function readColumns(client: object, schemas: readonly string[] = []): Promise<DatabaseColumns | null> {
  const raw = client as RawClient;
  if (typeof raw.$queryRawUnsafe !== 'function') return null;
  if (raw._activeProvider === 'sqlite') return { provider: 'sqlite', columns: await sqliteColumns(raw), strict: true };
  if (raw._activeProvider === 'mysql') {
    const rows = await raw.$queryRawUnsafe<Record<string, unknown>[]>(
      'SELECT TABLE_SCHEMA AS s, DATABASE() AS cs, TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS d, ' +
        'COLLATION_NAME AS k FROM information_schema.COLUMNS ' +
        `WHERE TABLE_SCHEMA IN (${['DATABASE()', ...schemas.map(() => '?')].join(', ')})`,
      ...schemas,
    );
    const [session] = await raw.$queryRawUnsafe<{ m: string; db: string | null }[]>(
      'SELECT @@SESSION.sql_mode AS m, DATABASE() AS db',
    );
    return {
      provider: 'mysql',
      columns: rows.map(fact),
      ...(session?.db ? { defaultSchema: session.db } : {}),
      strict: /STRICT_(TRANS|ALL)_TABLES/.test(session?.m ?? ''),
    };
  }
  const rows = await raw.$queryRawUnsafe<Record<string, unknown>[]>(
    'SELECT table_schema AS s, current_schema() AS cs, table_name AS t, column_name AS c, data_type AS d, ' +
      'collation_name AS k FROM information_schema.columns ' +
      'WHERE table_schema = current_schema() OR table_schema = ANY($1::text[])',
    [...schemas],
  );
  const [current] = await raw.$queryRawUnsafe<{ cs: string | null }[]>('SELECT current_schema() AS cs');
  return {
    provider: 'postgresql',
    columns: rows.map(fact),
    ...(current?.cs ? { defaultSchema: current.cs } : {}),
    strict: true,
  };
}

/**
 * SQLite's columns, each with the collation its declaration names, or a unique index's when that
 * is another (the index then refuses values its collation deems equal).
 */
async function sqliteColumns(raw: RawClient): Promise<ColumnFact[]> {
  const tables = await raw.$queryRawUnsafe<{ name: string; sql: string | null }[]>(
    "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'",
  );
  const facts: ColumnFact[] = [];
  for (const table of tables) {
    const declared = declaredCollations(table.sql ?? '');
    const columns = await raw.$queryRawUnsafe<{ name: string; type: string }[]>(
      'SELECT name, type FROM pragma_table_info(?)',
      table.name,
    );
    const indexed = await raw.$queryRawUnsafe<{ name: string; coll: string }[]>(
      'SELECT x.name AS name, x.coll AS coll FROM pragma_index_list(?) AS l, pragma_index_xinfo(l.name) AS x ' +
        'WHERE l."unique" = 1 AND x.key = 1 AND x.name IS NOT NULL AND upper(x.coll) <> \'BINARY\'',
      table.name,
    );
    const unique = new Map(indexed.map((row) => [row.name, String(row.coll).toUpperCase()]));
    for (const column of columns) {
      const collation = declared.get(column.name) ?? unique.get(column.name) ?? null;
      facts.push({ table: table.name, column: column.name, type: String(column.type).toLowerCase(), collation });
    }
  }
  return facts;
}

function fact(row: Record<string, unknown>): ColumnFact {
  const collation = row.k;
  return {
    ...(row.s !== undefined && row.s !== row.cs ? { schema: String(row.s) } : {}),
    table: String(row.t),
    column: String(row.c),
    type: String(row.d).toLowerCase(),
    collation: typeof collation === 'string' ? collation : null,
  };
}

/** A collation that compares `a` and `A` (or `é` and `e`) as equal: MySQL's `_ci`/`_ai` ones, SQLite's `NOCASE`. */
function ignoresCase(collation: string | null): boolean {
  return collation !== null && (collation === 'NOCASE' || /_(ci|ai)(_|$)/.test(collation));
}

/**
 * A collation that compares `a` and `a ` as equal: SQLite's `RTRIM`, and MySQL's and MariaDB's
 * PAD SPACE ones, which are every one but MariaDB's `_nopad_` and MySQL 8's `_0900_` collations
 * (MariaDB 10.11 has no `PAD_ATTRIBUTE` to read: their names say it).
 */
function ignoresTrailingSpaces(collation: string | null, provider: DatabaseColumns['provider']): boolean {
  if (collation === null || provider === 'postgresql') return false;
  if (provider === 'sqlite') return collation === 'RTRIM';
  return collation !== 'binary' && !/(^|_)(nopad|0900)(_|$)/.test(collation);
}

/** The problems of `database`'s columns for the models of `schema` (empty when all fit). */
export function judgeColumns(schema: HushfieldSchema, database: DatabaseColumns): ColumnFinding[] {
  const mysql = database.provider === 'mysql';
  const sqlite = database.provider === 'sqlite';
  const find = columnFinder(database.columns, mysql, database.defaultSchema);
  const findings: ColumnFinding[] = [];
  const fixedText = mysql ? 'char' : 'character';
  for (const model of Object.values(schema.models)) {
    const column = (field: string) => find(model, model.fields[field]?.dbName ?? field);
    const add = (level: ColumnFinding['level'], field: string, fact: ColumnFact, message: string) =>
      findings.push({
        level,
        message,
        detail: { model: model.name, field, table: fact.table, column: fact.column, type: fact.type },
      });
    if (sqlite) {
      judgeCollations(schema, model, find, database.provider, findings);
      continue;
    }
    for (const meta of Object.values(model.encrypted)) {
      const fact = column(meta.name);
      if (fact === undefined) continue;
      if (meta.type === undefined && fact.type === 'character')
        add('fail', meta.name, fact, messages.doctor.encryptedPadded(model.name, meta.name, fact.table, fact.column));
      if (meta.type === 'Bytes' && fact.type === 'binary')
        add('fail', meta.name, fact, messages.doctor.encryptedBinary(model.name, meta.name, fact.table, fact.column));
    }
    for (const field of identityFields(model)) {
      const fact = column(field);
      if (fact === undefined || fact.type !== fixedText || model.fields[field]?.fixedLength !== undefined) continue;
      add(
        mysql ? 'warn' : 'fail',
        field,
        fact,
        messages.doctor.identityFixedLength(model.name, field, fact.table, fact.column, mysql),
      );
    }
    if (mysql) judgeCollations(schema, model, find, database.provider, findings);
  }
  const keyModel = schema.models[schema.keyStoreModel];
  const scope = keyModel ? find(keyModel, keyModel.fields.scope?.dbName ?? 'scope') : undefined;
  const collates = mysql || sqlite;
  const detail = (fact: ColumnFact) => ({
    table: fact.table,
    column: fact.column,
    type: fact.type,
    collation: fact.collation ?? '',
  });
  if (scope !== undefined && ((!sqlite && scope.type === fixedText) || (collates && ignoresCase(scope.collation)))) {
    findings.push({
      level: 'fail',
      message: messages.doctor.keyScopeColumn(
        scope.table,
        scope.column,
        scope.type,
        scope.collation,
        database.provider,
      ),
      detail: detail(scope),
    });
  } else if (scope !== undefined && ignoresTrailingSpaces(scope.collation, database.provider)) {
    findings.push({
      level: 'warn',
      message: messages.doctor.keyScopePadded(scope.table, scope.column, scope.collation as string, database.provider),
      detail: detail(scope),
    });
  }
  if (mysql && !database.strict) findings.push({ level: 'warn', message: messages.doctor.notStrict(), detail: {} });
  // A column several models reach (an id that scope relations reference) is reported once.
  return [...new Map(findings.map((finding) => [`${finding.level}\u0000${finding.message}`, finding])).values()];
}

/**
 * Warns of `model`'s scope, bound and blind-index columns (and the columns its scope relation
 * references) in a case-insensitive collation.
 */
function judgeCollations(
  schema: HushfieldSchema,
  model: ModelMeta,
  find: Finder,
  provider: DatabaseColumns['provider'],
  findings: ColumnFinding[],
): void {
  const warn = (owner: ModelMeta, field: string, fact: ColumnFact, message: string) =>
    findings.push({
      level: 'warn',
      message,
      detail: {
        model: owner.name,
        field,
        table: fact.table,
        column: fact.column,
        type: fact.type,
        collation: fact.collation ?? '',
      },
    });
  const identities = [...identityFields(model).map((name) => ({ model, name })), ...scopeSources(schema, model)];
  for (const { model: owner, name } of identities) {
    const fact = find(owner, owner.fields[name]?.dbName ?? name);
    if (fact === undefined || !ignoresCase(fact.collation)) continue;
    const collation = fact.collation as string;
    warn(
      owner,
      name,
      fact,
      messages.doctor.identityCollation(owner.name, name, fact.table, fact.column, collation, provider),
    );
  }
  for (const index of Object.keys(model.blindIndexes)) {
    const fact = find(model, model.fields[index]?.dbName ?? index);
    if (fact !== undefined && ignoresCase(fact.collation))
      warn(model, index, fact, messages.doctor.indexCollation(model.name, index, fact.collation as string, provider));
  }
}

/** Looks a column of a model's table up (`columnFinder`). */
type Finder = (model: Pick<ModelMeta, 'dbName' | 'schema'>, column: string) => ColumnFact | undefined;

/**
 * Looks a column up by the model's table (in its `@@schema`, else the connection's) and column
 * name as the schema spells them. On MySQL, whose column names are not case-sensitive (nor
 * table names, under `lower_case_table_names`), a name the database spells in another case is
 * the same column: found when no exact spelling is.
 */
function columnFinder(columns: readonly ColumnFact[], mysql: boolean, defaultSchema: string | undefined): Finder {
  const keyOf = (schema: string | undefined, table: string, column: string) =>
    `${schema === defaultSchema ? '' : (schema ?? '')}\u0000${table}\u0000${column}`;
  const exact = new Map(columns.map((c) => [keyOf(c.schema, c.table, c.column), c]));
  const folded = new Map<string, ColumnFact>();
  if (mysql) for (const c of columns) folded.set(keyOf(c.schema, c.table, c.column).toLowerCase(), c);
  return (model, column) => {
    const key = keyOf(model.schema, model.dbName, column);
    return exact.get(key) ?? (mysql ? folded.get(key.toLowerCase()) : undefined);
  };
}

/**
 * The columns a scoped model's scope is taken from in a connect (the referenced columns of its
 * scope relation): a where on them is trusted as the scope value.
 */
function scopeSources(schema: HushfieldSchema, model: ModelMeta): { model: ModelMeta; name: string }[] {
  const relation = model.scopeRelation === undefined ? undefined : model.fields[model.scopeRelation];
  const target = relation?.relationModel === undefined ? undefined : schema.models[relation.relationModel];
  if (target === undefined) return [];
  return (relation?.relationToFields ?? []).map((name) => ({ model: target, name }));
}

/** The fields whose values name a row's scope or are bound into its values: scope, bound field, bound id. */
function identityFields(model: ModelMeta): string[] {
  const fields = new Set<string>();
  if (model.scopeField !== undefined) fields.add(model.scopeField);
  const bound = boundField(model);
  if (bound !== undefined) fields.add(bound);
  return [...fields];
}
