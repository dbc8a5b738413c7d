/**
 * The part of Prisma's DMMF the generator reads. Prisma's own `DMMF.Document` is assignable
 * to {@link DmmfDocument}; tests build these by hand.
 */

/** A field's `@default(...)`: a function call, or a literal value. */
export type DmmfDefault =
  | { readonly name: string; readonly args: readonly (string | number)[] }
  | string
  | number
  | boolean
  | readonly (string | number | boolean)[];

/** One field of a model. */
export interface DmmfField {
  readonly name: string;
  readonly kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  readonly type: string;
  readonly dbName?: string | null;
  readonly isList: boolean;
  readonly isRequired: boolean;
  readonly isUnique: boolean;
  readonly isId: boolean;
  readonly isUpdatedAt?: boolean;
  readonly hasDefaultValue: boolean;
  readonly default?: DmmfDefault;
  readonly relationName?: string;
  readonly relationFromFields?: readonly string[];
  readonly relationToFields?: readonly string[];
  /** The relation's `onUpdate` when the schema writes one (`Cascade`, `Restrict`, `NoAction`, `SetNull`...). */
  readonly relationOnUpdate?: string;
  /** `@db.VarChar(191)` is `['VarChar', ['191']]`. */
  readonly nativeType?: readonly [string, readonly string[]] | null;
  /** The `///` comment lines, without the slashes, joined by `\n`. */
  readonly documentation?: string;
}

/** One model. */
export interface DmmfModel {
  readonly name: string;
  readonly dbName: string | null;
  /** The database schema of a `@@schema` model (multi-schema datasources); absent or null otherwise. */
  readonly schema?: string | null;
  readonly fields: readonly DmmfField[];
  readonly primaryKey: { readonly name: string | null; readonly fields: readonly string[] } | null;
  readonly uniqueIndexes: readonly { readonly name: string | null; readonly fields: readonly string[] }[];
  readonly documentation?: string;
}

/** One enum: checked only for annotations, which mean nothing on an enum or its values. */
export interface DmmfEnum {
  readonly name: string;
  readonly values: readonly { readonly name: string; readonly documentation?: string }[];
  readonly documentation?: string;
}

/** What `buildSchema` needs from the generator options' `dmmf`. */
export interface DmmfDocument {
  readonly datamodel: { readonly models: readonly DmmfModel[]; readonly enums?: readonly DmmfEnum[] };
}
