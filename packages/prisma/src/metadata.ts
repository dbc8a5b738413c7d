/**
 * The schema metadata the generator emits and the extension and CLI read. It is the only
 * place annotations are interpreted at run time: Prisma 7's runtime data model carries no
 * documentation comments, so the generator (which receives the full DMMF) writes this.
 */
import type { Normalizer } from '@hushfield/core';

/** strict: fail closed. migrating: reads legacy plaintext, writes ciphertext. readonly: decrypts, writes plaintext. */
export type EncryptionMode = 'strict' | 'migrating' | 'readonly';

/** Blind-index normalizers (pinned, versioned names such as `lowercase@1`), applied in order on write and on query. */
export type { Normalizer };

/**
 * How a model's single id field (or its bound field) gets its value: a client-side default
 * (`uuid7` for `uuid(7)`, `cuid2` for `cuid(2)`, `nanoid(n)` for a `nanoid` of another size
 * than 21), `autoincrement`, the caller (`none`) or another database default (`database`).
 */
export type IdGeneration =
  'uuid' | 'uuid7' | 'cuid' | 'cuid2' | 'ulid' | 'nanoid' | `nanoid(${number})` | 'autoincrement' | 'none' | 'database';

/** A field marked `/// @encrypted`. */
export interface EncryptedFieldMeta {
  /** Prisma field name. */
  readonly name: string;
  /** Database column name (`@map`), bound into the associated data. */
  readonly dbName: string;
  readonly mode: EncryptionMode;
  /** Whether the field is optional (`String?`); null stays null. */
  readonly optional: boolean;
  /**
   * The field's value type when it is not `String`: `Json` (sealed as one JSON text), `Bytes`
   * (a binary envelope) or `String[]` (each element sealed, bound to its position and the
   * list's length). See typed-values.ts.
   */
  readonly type?: 'Json' | 'Bytes' | 'String[]';
}

/** A column marked `/// @blindIndex(source: f, ...)`, computed by the extension. */
export interface BlindIndexMeta {
  /** Prisma field name of the index column. */
  readonly name: string;
  readonly dbName: string;
  /** Prisma field name of the encrypted source field. */
  readonly source: string;
  /** Versioned names (the generator writes `lowercase@1` for `lowercase`). */
  readonly normalize: readonly Normalizer[];
  /** Output length in bits, 1 to 256; 256 = full length. */
  readonly bits: number;
  /** Distinct values the source is expected to hold (`expected:`), when given. */
  readonly expected?: number;
  /**
   * `perScope: true`: keyed by each row's scope key instead of the shared index root key (a
   * shred of the scope makes its index values meaningless); lookups must name the scope.
   * `'migrating'`: the same, and lookups also match values still keyed by the shared index
   * root key (while `hushfield reencrypt` moves an existing index to per-scope keys).
   */
  readonly perScope?: true | 'migrating';
  /** `@unique` on the index column (only allowed at full length). */
  readonly unique: boolean;
  readonly optional: boolean;
}

/**
 * A column marked `/// @matchIndex(source: f, ...)`: an `Int[]` of Bloom-filter positions of
 * the source's n-grams, computed by the extension, for `contains`/`startsWith`/`endsWith`.
 */
export interface MatchIndexMeta {
  /** Prisma field name of the index column. */
  readonly name: string;
  readonly dbName: string;
  /** Prisma field name of the encrypted source field. */
  readonly source: string;
  /** n-gram length in code points. */
  readonly tokens: number;
  /** Filter size in bits (a power of two). */
  readonly bits: number;
  /** Positions per n-gram. */
  readonly hashes: number;
  /** `case`: code points lower-cased one by one (`normalize: "lowercase"`); `none`: as written. */
  readonly fold: 'none' | 'case';
  /** Longest source value indexed, in code points; a longer one is refused on write. */
  readonly maxLength: number;
}

/** A referential action of a relation (`onUpdate: Restrict`...). */
export type ReferentialAction = 'Cascade' | 'Restrict' | 'NoAction' | 'SetNull' | 'SetDefault';

/** A scalar or relation field of a model, enough for the extension to walk arguments. */
export interface FieldMeta {
  readonly name: string;
  readonly dbName: string;
  readonly kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  /** Prisma type name (`String`, `Int`, a model name for relations...). */
  readonly type: string;
  readonly isList: boolean;
  readonly isRequired: boolean;
  readonly isId: boolean;
  /** For relation fields: the related model's name. */
  readonly relationModel?: string;
  /** For relation fields: Prisma's name of the relation, which both of its sides carry. */
  readonly relationName?: string;
  /**
   * For the side of a relation that holds the foreign key: its scalar fields, and the fields of
   * the related model they reference, in the same order. A create under the relation takes
   * these values (the scope among them) from the related row.
   */
  readonly relationFromFields?: readonly string[];
  readonly relationToFields?: readonly string[];
  /**
   * For the side of a relation that holds the foreign key: the `onUpdate` referential action
   * written in the schema; absent when none is (Prisma's default, `Cascade`). A cascade that
   * changes a bound id under its values is refused by the extension.
   */
  readonly relationOnUpdate?: ReferentialAction;
  /**
   * The column is a PostgreSQL `uuid` (`@db.Uuid`): the database keeps the canonical
   * lower-case form of whatever UUID form was written, so the extension binds that form.
   */
  readonly uuid?: boolean;
  /**
   * The most characters the column holds (`@db.VarChar(n)`, `@db.Char(n)`): the database
   * refuses a longer value, or cuts its trailing spaces to fit. Recorded for `String` fields,
   * and for `String[]` ones as the bound of each element (`varchar(n)[]`).
   */
  readonly maxLength?: number;
  /**
   * The most bytes a bounded MySQL column holds: `@db.TinyText`, `@db.Text`, `@db.MediumText`
   * for a `String` (255, 65,535, 16,777,215), `@db.VarBinary(n)`, `@db.TinyBlob`, `@db.Blob`,
   * `@db.MediumBlob` for a `Bytes`. MySQL refuses a longer value, or, without a strict
   * `sql_mode`, cuts it to fit. Recorded on MySQL only.
   */
  readonly maxBytes?: number;
  /**
   * The column is fixed-length text (`@db.Char(n)`), which returns a value shorter than
   * `maxLength` in another form: PostgreSQL pads it with spaces (`pads`), MySQL and MariaDB
   * strip its trailing spaces (`trims`); `either` when the generator did not know the provider.
   */
  readonly fixedLength?: 'pads' | 'trims' | 'either';
}

/** One model as the extension sees it. Names are Prisma names unless called `dbName`. */
export interface ModelMeta {
  readonly name: string;
  /** Table name (`@@map`), bound into the associated data. */
  readonly dbName: string;
  /**
   * The database schema of the model's table (`@@schema`, on a datasource with `schemas`);
   * absent when the model has none, and its table is the connection's default schema's. Not
   * bound into the associated data; tools that write SQL qualify the table name with it.
   */
  readonly schema?: string;
  /** Primary key field names (one, or several for `@@id`). */
  readonly idFields: readonly string[];
  /**
   * On a model without an `@id`: the unique criterion the CLI walks, resumes, splits and writes
   * its rows by (the first `@unique` or `@@unique` of required, ordered scalars that no rewrite
   * changes), or `[]` when there is none and the CLI must refuse the model. Absent on a model with
   * an `@id` (its `idFields` are the key), and in metadata generated before it was recorded.
   * Binding is unaffected: values of an id-less model stay bound to model and field only.
   */
  readonly rowKeyFields?: readonly string[];
  /** How the single id field is generated (`none` when supplied by the caller). */
  readonly idGeneration: IdGeneration;
  /**
   * Policy: values of this model are bound to the row id (the id is known before the write:
   * client-generated default or caller-supplied). Decided here, never by the stored value.
   */
  readonly bindRowId: boolean;
  /**
   * The field values are bound to instead of the id, named by `/// @encryption(bind: f)` on a
   * model whose id is not bound (the database assigns it, or it is compound): a required
   * `String` whose value is known before the write (a client-generated default, or given by the
   * caller), unique alone or together with the scope field (then the read's scope check tells
   * the scopes apart). Absent when values are bound to the id, or not bound. Read it through
   * `boundField`, which covers both.
   */
  readonly bindField?: string;
  /** How {@link ModelMeta.bindField} gets its value when the caller gives none. */
  readonly bindGeneration?: IdGeneration;
  /** Field whose value names the scope key (`/// @encryption(scope: f)`); absent = `default`. */
  readonly scopeField?: string;
  /**
   * Relation field whose foreign key is the scope field (`tenant` for `tenant Tenant
   * @relation(fields: [tenantId], ...)`). Writing it in an update would move the row to another
   * scope without re-encrypting it, so the extension refuses that.
   */
  readonly scopeRelation?: string;
  readonly fields: Readonly<Record<string, FieldMeta>>;
  readonly encrypted: Readonly<Record<string, EncryptedFieldMeta>>;
  /** Keyed by the index column's field name. */
  readonly blindIndexes: Readonly<Record<string, BlindIndexMeta>>;
  /** Keyed by the index column's field name; absent when the model has none. */
  readonly matchIndexes?: Readonly<Record<string, MatchIndexMeta>>;
  /** Compound unique constraints (`@@unique`), as Prisma names the input (`provider_externalIdIdx`). */
  readonly uniqueIndexes: readonly { readonly name: string; readonly fields: readonly string[] }[];
}

/** What the generator writes: `export const hushfieldSchema: HushfieldSchema = {...}`. */
export interface HushfieldSchema {
  readonly formatVersion: 1;
  /** Prisma model name of the key store (`HushfieldKey` unless configured). */
  readonly keyStoreModel: string;
  readonly models: Readonly<Record<string, ModelMeta>>;
}
