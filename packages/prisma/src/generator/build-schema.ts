/**
 * From the DMMF to the {@link HushfieldSchema} the extension and CLI read: interprets every
 * model's and field's annotations and validates them against the data model. A pure function
 * of its inputs; writing files is `emit.ts`'s job.
 */
import { ConfigError, maxBlindIndexLength } from '@hushfield/core';
import type {
  BlindIndexMeta,
  EncryptedFieldMeta,
  FieldMeta,
  HushfieldSchema,
  IdGeneration,
  MatchIndexMeta,
  ModelMeta,
} from '../metadata';
import { parseAnnotations, type Annotation, type BlindIndexAnnotation, type MatchIndexAnnotation } from './annotations';
import type { DmmfDocument, DmmfField, DmmfModel } from './dmmf';
import { checkKeyStoreModel } from './key-store-model';
import { messages } from './messages';

/** Settings from the `generator hushfield { ... }` block. */
export interface GeneratorSettings {
  /** Prisma model name of the key store; default `HushfieldKey`. */
  readonly keyStoreModel?: string;
  /** The datasource's provider (`postgresql`, `mysql`, `sqlite`...), from the schema; unchecked when absent. */
  readonly provider?: string;
}

/** The default key-store model name. */
export const DEFAULT_KEY_STORE_MODEL = 'HushfieldKey';

/**
 * The outcome of {@link validateSchema}: the schema, or every problem found; and warnings
 * (`Model.field: ...`) about choices that work but are likely wrong, such as bucket sizes.
 */
export type Validation = (
  { readonly schema: HushfieldSchema; readonly problems: [] } | { readonly schema: null; readonly problems: string[] }
) & { readonly warnings: string[] };

/**
 * Shortest envelope (core's format 1): `hfe$1$` + key id (≥ 1) + `$` + version (≥ 1) + `$` +
 * wrapped DEK (80) + `$` + sealed empty value (38). Real ones are longer: the key ids hushfield
 * creates have 12 characters, and the value adds 4/3 of its UTF-8 bytes.
 */
export const MIN_ENVELOPE_LENGTH = 6 + 1 + 1 + 1 + 1 + 80 + 1 + 38;

/** What Prisma makes of a String without `@db` on MySQL: `VARCHAR(191)`. */
export const MYSQL_DEFAULT_VARCHAR = 191;

/**
 * Longest blind-index value of `bits` (core's `maxBlindIndexLength`): `v` + root version
 * (≤ 10 digits) + `.n` + normalizer version (≤ 3 digits) + `.` + base64url of ⌈bits / 8⌉ bytes.
 */
export function maxIndexLength(bits: number): number {
  return maxBlindIndexLength(bits);
}

/** Fewest values per bucket of a truncated index below which most values are alone in theirs. */
export const MIN_VALUES_PER_BUCKET = 2;
/** Most values per bucket (candidate rows each lookup decrypts) before the generator warns. */
export const MAX_VALUES_PER_BUCKET = 1000;

/**
 * The bit counts that give `expected` distinct values 2 to 1000 values per bucket on average
 * (`expected / 2^bits`), as `[low, high]` (empty when low > high).
 */
export function suggestedBits(expected: number): [number, number] {
  const low = Math.max(1, Math.ceil(Math.log2(expected / MAX_VALUES_PER_BUCKET)));
  const high = Math.min(255, Math.floor(Math.log2(expected / MIN_VALUES_PER_BUCKET)));
  return [low, high];
}

const LENGTH_LIMITED = ['VarChar', 'Char', 'NVarChar', 'NChar'];

/** The declared maximum length of a `@db.VarChar(n)`-like column, or `null`. */
function declaredLength(field: DmmfField): { type: string; length: number } | null {
  const [type, args] = field.nativeType ?? ['', []];
  const length = Number(args[0]);
  return LENGTH_LIMITED.includes(type) && Number.isSafeInteger(length) ? { type, length } : null;
}

/**
 * Shortest binary envelope (core's binary-envelope.ts): `hfb` + version + key id length + key id
 * (≥ 1) + key version (4) + wrapped DEK (60) + nonce and tag of an empty value (28).
 */
export const MIN_BINARY_ENVELOPE_BYTES = 3 + 1 + 1 + 1 + 4 + 60 + 28;

/** The declared length of a binary native type: MySQL `BINARY(n)`, `VARBINARY(n)`. */
function binaryLength(field: DmmfField): { type: string; length: number } | null {
  const [type, args] = field.nativeType ?? ['', []];
  const length = Number(args[0]);
  return (type === 'Binary' || type === 'VarBinary') && Number.isSafeInteger(length) ? { type, length } : null;
}

/** The value type of a field `@encrypted` can be on, or null: String, String[] (scalar lists), Json, Bytes. */
function encryptedTypeOf(field: DmmfField): 'String' | NonNullable<EncryptedFieldMeta['type']> | null {
  if (field.kind !== 'scalar') return null;
  if (field.type === 'String') return field.isList ? 'String[]' : 'String';
  if (field.isList) return null;
  return field.type === 'Json' || field.type === 'Bytes' ? field.type : null;
}

const CLIENT_GENERATED: readonly IdGeneration[] = ['uuid', 'cuid', 'cuid2', 'ulid', 'nanoid', 'none'];
const SCOPE_TYPES = ['String', 'Int', 'BigInt'];
/**
 * Text columns that do not return the value written (`Char` pads it) or match other forms of
 * it (`Citext`): a field bound into the associated data must come back exactly as sealed.
 */
const UNSTABLE_TEXT = ['Char', 'NChar', 'Citext'];

/** How a single id field gets its value, from its `@default`. */
export function idGenerationOf(field: DmmfField): IdGeneration {
  const d = field.default;
  if (!field.hasDefaultValue || d === undefined) return 'none';
  // A literal default or an unknown function is chosen outside the extension's view: not bindable.
  if (typeof d !== 'object' || Array.isArray(d) || !('name' in d)) return 'database';
  switch (d.name) {
    case 'uuid':
    case 'ulid':
    case 'nanoid':
    case 'autoincrement':
      return d.name;
    case 'cuid':
      return d.args[0] === 2 ? 'cuid2' : 'cuid';
    default:
      return 'database';
  }
}

/** Parses the generator block's options. */
export function readSettings(config: Readonly<Record<string, string | readonly string[] | undefined>>): {
  settings: GeneratorSettings;
  problems: string[];
} {
  const problems: string[] = [];
  let keyStoreModel: string | undefined;
  for (const [key, value] of Object.entries(config)) {
    if (key !== 'keyStoreModel') problems.push(messages.configUnknown(key));
    else if (typeof value !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(value))
      problems.push(messages.configKeyStoreModel());
    else keyStoreModel = value;
  }
  return { settings: { keyStoreModel }, problems };
}

class ModelBuilder {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];
  private readonly fieldAnnotations = new Map<string, Annotation[]>();
  private scopeField: string | undefined;
  private bindField: string | undefined;

  constructor(
    private readonly model: DmmfModel,
    private readonly isKeyStore: boolean,
    private readonly provider?: string,
  ) {}

  private report(field: string | null, problem: string): void {
    this.problems.push(field === null ? `${this.model.name}: ${problem}` : `${this.model.name}.${field}: ${problem}`);
  }

  private warn(field: string, warning: string): void {
    this.warnings.push(`${this.model.name}.${field}: ${warning}`);
  }

  private field(name: string): DmmfField | undefined {
    return this.model.fields.find((f) => f.name === name);
  }

  private annotationOf<K extends Annotation['kind']>(
    field: string,
    kind: K,
  ): Extract<Annotation, { kind: K }> | undefined {
    return this.fieldAnnotations.get(field)?.find((a): a is Extract<Annotation, { kind: K }> => a.kind === kind);
  }

  private parse(): void {
    const modelParsed = parseAnnotations(this.model.documentation, 'model');
    for (const problem of modelParsed.problems) this.report(null, problem);
    let annotated = modelParsed.annotations.length > 0;
    const scopes = modelParsed.annotations.flatMap((a) => (a.kind === 'model' && a.scope ? [a.scope] : []));
    if (scopes.length > 1) this.report(null, messages.duplicateScope());
    this.scopeField = scopes[0];
    const binds = modelParsed.annotations.flatMap((a) => (a.kind === 'model' && a.bind ? [a.bind] : []));
    if (binds.length > 1) this.report(null, messages.duplicateBind());
    this.bindField = binds[0];
    for (const field of this.model.fields) {
      const parsed = parseAnnotations(field.documentation, 'field');
      for (const problem of parsed.problems) this.report(field.name, problem);
      const meaningful = parsed.annotations.filter((a) => a.kind !== 'cursor');
      if (meaningful.length > 1) {
        this.report(field.name, messages.twoAnnotations(`@${meaningful[0].kind}`, `@${meaningful[1].kind}`));
      }
      annotated ||= meaningful.length > 0;
      this.fieldAnnotations.set(field.name, meaningful.slice(0, 1));
    }
    if (this.isKeyStore && annotated) this.report(null, messages.keyStoreAnnotated(this.model.name));
  }

  private encrypted(field: DmmfField, mode: EncryptedFieldMeta['mode']): EncryptedFieldMeta {
    const type = encryptedTypeOf(field);
    if (type === null) this.report(field.name, messages.encryptedType(field.type, field.isList));
    if (type === 'Bytes') {
      const declared = binaryLength(field);
      if (declared !== null && declared.length < MIN_BINARY_ENVELOPE_BYTES)
        this.report(
          field.name,
          messages.binaryColumnTooShort(declared.type, declared.length, MIN_BINARY_ENVELOPE_BYTES),
        );
    }
    if (field.isId || this.model.primaryKey?.fields.includes(field.name))
      this.report(field.name, messages.encryptedId());
    if (field.hasDefaultValue) this.report(field.name, messages.encryptedDefault());
    const declared = declaredLength(field);
    if (declared && declared.length < MIN_ENVELOPE_LENGTH) {
      this.report(
        field.name,
        messages.columnTooShort('@encrypted', declared.type, declared.length, MIN_ENVELOPE_LENGTH, 'any envelope'),
      );
    }
    if (this.provider === 'mysql' && type === 'String' && !field.nativeType) {
      const fits = Math.floor(((MYSQL_DEFAULT_VARCHAR - MIN_ENVELOPE_LENGTH) * 3) / 4);
      this.report(field.name, messages.mysqlDefaultVarchar(MYSQL_DEFAULT_VARCHAR, MIN_ENVELOPE_LENGTH, fits));
    }
    const relation = this.model.fields.find((f) => f.relationFromFields?.includes(field.name));
    if (relation) this.report(field.name, messages.encryptedRelation(relation.name));
    return {
      name: field.name,
      dbName: field.dbName ?? field.name,
      mode,
      optional: !field.isRequired,
      ...(type !== null && type !== 'String' ? { type } : {}),
    };
  }

  private blindIndex(field: DmmfField, index: BlindIndexAnnotation): BlindIndexMeta {
    if (field.type !== 'String' || field.isList || field.kind !== 'scalar') {
      this.report(field.name, messages.indexType(field.type, field.isList));
    }
    const source = this.field(index.source);
    if (!source) this.report(field.name, messages.indexSourceMissing(index.source));
    else if (!this.annotationOf(index.source, 'encrypted'))
      this.report(field.name, messages.indexSourceNotEncrypted(index.source));
    else if (encryptedTypeOf(source) !== 'String')
      this.report(field.name, messages.indexSourceType(index.source, source.type + (source.isList ? '[]' : '')));
    else if (field.isRequired && !source.isRequired)
      this.report(field.name, messages.indexRequiredSourceOptional(index.source));
    if (field.isId || this.model.primaryKey?.fields.includes(field.name)) this.report(field.name, messages.indexId());
    if (field.hasDefaultValue) this.report(field.name, messages.indexDefault());
    const declared = declaredLength(field);
    if (declared && declared.length < maxIndexLength(index.bits)) {
      const needed = maxIndexLength(index.bits);
      this.report(
        field.name,
        messages.columnTooShort('@blindIndex', declared.type, declared.length, needed, `a ${index.bits}-bit index`),
      );
    }
    if (index.bits < 256) {
      const compound = this.model.uniqueIndexes.find((u) => u.fields.includes(field.name));
      if (field.isUnique) this.report(field.name, messages.indexTruncatedUnique(index.bits, '@unique'));
      if (compound)
        this.report(
          field.name,
          messages.indexTruncatedUnique(index.bits, `part of @@unique([${compound.fields.join(', ')}])`),
        );
    }
    if (index.expected !== undefined) this.checkBuckets(field, index.bits, index.expected);
    if (index.perScope !== undefined && this.scopeField === undefined)
      this.report(field.name, messages.indexPerScopeUnscoped());
    const unique =
      field.isUnique || this.model.uniqueIndexes.some((u) => u.fields.length === 1 && u.fields[0] === field.name);
    return {
      name: field.name,
      dbName: field.dbName ?? field.name,
      source: index.source,
      normalize: index.normalize,
      bits: index.bits,
      ...(index.expected !== undefined ? { expected: index.expected } : {}),
      ...(index.perScope !== undefined ? { perScope: index.perScope } : {}),
      unique,
      optional: !field.isRequired,
    };
  }

  private matchIndex(field: DmmfField, index: MatchIndexAnnotation): MatchIndexMeta {
    if (field.type !== 'Int' || !field.isList || field.kind !== 'scalar') {
      this.report(field.name, messages.matchType(field.type, field.isList));
    }
    if (this.provider !== undefined && this.provider !== 'postgresql' && this.provider !== 'postgres')
      this.report(field.name, messages.matchProvider(this.provider));
    const source = this.field(index.source);
    if (!source) this.report(field.name, messages.matchSourceMissing(index.source));
    else if (!this.annotationOf(index.source, 'encrypted') || source.type !== 'String' || source.isList)
      this.report(field.name, messages.matchSourceNotEncrypted(index.source));
    if (field.hasDefaultValue) this.report(field.name, messages.matchDefault());
    const ids = this.model.primaryKey?.fields ?? this.model.fields.filter((f) => f.isId).map((f) => f.name);
    if (ids.length !== 1) this.report(field.name, messages.matchNoId());
    const { tokens, bits, hashes, fold, maxLength } = index;
    const dbName = field.dbName ?? field.name;
    return { name: field.name, dbName, source: index.source, tokens, bits, hashes, fold, maxLength };
  }

  /** Warns when `expected` values would make buckets of `bits` too small (privacy) or too large (candidates). */
  private checkBuckets(field: DmmfField, bits: number, expected: number): void {
    const [low, high] = suggestedBits(expected);
    const suggestion = high < 1 ? messages.tooFewForTruncation() : messages.bitsSuggestion(low, high);
    if (bits === 256) return this.warn(field.name, messages.expectedAtFullLength(expected, suggestion));
    const perBucket = expected / 2 ** bits;
    if (perBucket < MIN_VALUES_PER_BUCKET)
      this.warn(field.name, messages.bucketsTooSmall(bits, expected, perBucket, suggestion));
    else if (perBucket > MAX_VALUES_PER_BUCKET)
      this.warn(field.name, messages.bucketsTooLarge(bits, expected, perBucket, suggestion));
  }

  private checkScope(): void {
    const name = this.scopeField;
    if (name === undefined) return;
    const field = this.field(name);
    if (!field) return this.report(name, messages.scopeMissing(name));
    if (field.kind !== 'scalar') this.report(name, messages.scopeNotScalar(name, `it is a ${field.kind} field`));
    else if (field.isList) this.report(name, messages.scopeNotScalar(name, 'it is a list'));
    else if (!field.isRequired) this.report(name, messages.scopeNotScalar(name, 'it is optional'));
    else if (!SCOPE_TYPES.includes(field.type)) this.report(name, messages.scopeNotScalar(name, `it is ${field.type}`));
    if (this.fieldAnnotations.get(name)?.length) this.report(name, messages.scopeEncrypted(name));
  }

  /**
   * The binding of `@encryption(bind: f)`: the field and how it gets its value, when the field
   * is a required unique String known before the write and the id is not bound already.
   */
  private bind(idBound: string | undefined, singleId: boolean): { bindField?: string; bindGeneration?: IdGeneration } {
    const name = this.bindField;
    if (name === undefined) return {};
    const field = this.field(name);
    if (!field) return this.reportBind(name, messages.bindMissing(name));
    if (idBound !== undefined) return this.reportBind(name, messages.bindRedundant(name, idBound));
    if (!singleId) return this.reportBind(name, messages.bindNoSingleId(name));
    if (field.kind !== 'scalar')
      return this.reportBind(name, messages.bindNotScalar(name, `it is a ${field.kind} field`));
    if (field.isList) return this.reportBind(name, messages.bindNotScalar(name, 'it is a list'));
    if (!field.isRequired) return this.reportBind(name, messages.bindNotScalar(name, 'it is optional'));
    if (field.type !== 'String') return this.reportBind(name, messages.bindNotScalar(name, `it is ${field.type}`));
    if (this.fieldAnnotations.get(name)?.length) return this.reportBind(name, messages.bindAnnotated(name));
    const native = field.nativeType?.[0];
    if (native !== undefined && UNSTABLE_TEXT.includes(native))
      return this.reportBind(name, messages.bindNativeType(name, native));
    const relation = this.model.fields.find((f) => f.kind === 'object' && f.relationFromFields?.includes(name));
    if (relation) return this.reportBind(name, messages.bindForeignKey(name, relation.name));
    const unique =
      field.isUnique ||
      field.isId ||
      this.model.uniqueIndexes.some((u) => u.fields.length === 1 && u.fields[0] === name) ||
      (this.model.primaryKey?.fields.length === 1 && this.model.primaryKey.fields[0] === name);
    if (!unique) return this.reportBind(name, messages.bindNotUnique(name));
    const generation = idGenerationOf(field);
    if (!CLIENT_GENERATED.includes(generation))
      return this.reportBind(name, messages.bindDatabaseGenerated(name, generation));
    return { bindField: name, bindGeneration: generation };
  }

  private reportBind(field: string, problem: string): Record<string, never> {
    this.report(field, problem);
    return {};
  }

  /** The relation whose foreign key is the scope field, if any (see `ModelMeta.scopeRelation`). */
  private scopeRelation(): { scopeRelation?: string } {
    const scope = this.scopeField;
    if (scope === undefined) return {};
    const relation = this.model.fields.find((f) => f.kind === 'object' && f.relationFromFields?.includes(scope));
    return relation ? { scopeRelation: relation.name } : {};
  }

  build(): ModelMeta {
    this.parse();
    const encrypted: Record<string, EncryptedFieldMeta> = {};
    const blindIndexes: Record<string, BlindIndexMeta> = {};
    const matchIndexes: Record<string, MatchIndexMeta> = {};
    const fields: Record<string, FieldMeta> = {};
    for (const field of this.model.fields) {
      const annotation = this.fieldAnnotations.get(field.name)?.[0];
      if (annotation?.kind === 'encrypted') encrypted[field.name] = this.encrypted(field, annotation.mode);
      if (annotation?.kind === 'blindIndex') blindIndexes[field.name] = this.blindIndex(field, annotation);
      if (annotation?.kind === 'matchIndex') matchIndexes[field.name] = this.matchIndex(field, annotation);
      fields[field.name] = {
        name: field.name,
        dbName: field.dbName ?? field.name,
        kind: field.kind,
        type: field.type,
        isList: field.isList,
        isRequired: field.isRequired,
        isId: field.isId,
        ...(field.kind === 'object' ? relationOf(field) : {}),
        ...(field.nativeType?.[0] === 'Uuid' ? { uuid: true } : {}),
      };
    }
    this.checkScope();
    const idFields = this.model.primaryKey?.fields ?? this.model.fields.filter((f) => f.isId).map((f) => f.name);
    const idField = idFields.length === 1 ? this.field(idFields[0]) : undefined;
    const idGeneration = idField ? idGenerationOf(idField) : 'none';
    const idBound = idField !== undefined && idField.type === 'String' && CLIENT_GENERATED.includes(idGeneration);
    const bind = this.bind(idBound ? idField.name : undefined, idField !== undefined);
    return {
      name: this.model.name,
      dbName: this.model.dbName ?? this.model.name,
      idFields: [...idFields],
      idGeneration,
      bindRowId: idBound || bind.bindField !== undefined,
      ...bind,
      ...(this.scopeField !== undefined ? { scopeField: this.scopeField } : {}),
      ...this.scopeRelation(),
      fields,
      encrypted,
      blindIndexes,
      ...(Object.keys(matchIndexes).length > 0 ? { matchIndexes } : {}),
      uniqueIndexes: this.model.uniqueIndexes.map((u) => ({
        name: u.name ?? u.fields.join('_'),
        fields: [...u.fields],
      })),
    };
  }
}

/** What the metadata keeps of a relation field: the related model, and the foreign key when this side holds it. */
function relationOf(
  field: DmmfField,
): Pick<FieldMeta, 'relationModel' | 'relationName' | 'relationFromFields' | 'relationToFields'> {
  const from = field.relationFromFields ?? [];
  const to = field.relationToFields ?? [];
  return {
    relationModel: field.type,
    ...(field.relationName ? { relationName: field.relationName } : {}),
    ...(from.length > 0 && from.length === to.length
      ? { relationFromFields: [...from], relationToFields: [...to] }
      : {}),
  };
}

/**
 * Interprets and validates every annotation of the data model.
 * @returns the schema, or (with `schema: null`) one `Model.field: ...` message per problem.
 */
export function validateSchema(dmmf: DmmfDocument, settings: GeneratorSettings = {}): Validation {
  const keyStoreModel = settings.keyStoreModel ?? DEFAULT_KEY_STORE_MODEL;
  const problems = checkKeyStoreModel(dmmf.datamodel.models, keyStoreModel);
  const warnings: string[] = [];
  const models: Record<string, ModelMeta> = {};
  for (const model of dmmf.datamodel.models) {
    const builder = new ModelBuilder(model, model.name === keyStoreModel, settings.provider);
    models[model.name] = builder.build();
    problems.push(...builder.problems);
    warnings.push(...builder.warnings);
  }
  if (problems.length > 0) return { schema: null, problems, warnings };
  return { schema: { formatVersion: 1, keyStoreModel, models }, problems: [], warnings };
}

/**
 * Builds the hushfield schema from the DMMF.
 * @throws ConfigError listing every problem, each naming its model and field.
 * @example
 * const schema = buildSchema(options.dmmf, { keyStoreModel: 'HushfieldKey' });
 */
export function buildSchema(dmmf: DmmfDocument, settings: GeneratorSettings = {}): HushfieldSchema {
  const result = validateSchema(dmmf, settings);
  if (result.schema === null) throw new ConfigError(messages.report(result.problems));
  return result.schema;
}
