/**
 * One model's part of the schema: reads the annotations of the model and its fields, checks
 * each against the field it is on (the scope and bound fields are `row-identity.ts`'s), and
 * builds the model's {@link ModelMeta}.
 */
import type {
  BlindIndexMeta,
  EncryptedFieldMeta,
  FieldMeta,
  IdGeneration,
  MatchIndexMeta,
  ModelMeta,
} from '../metadata';
import { parseAnnotations, type Annotation, type BlindIndexAnnotation, type MatchIndexAnnotation } from './annotations';
import type { DmmfField, DmmfModel } from './dmmf';
import {
  MAX_VALUES_PER_BUCKET,
  MIN_BINARY_ENVELOPE_BYTES,
  MIN_ENVELOPE_LENGTH,
  MIN_VALUES_PER_BUCKET,
  MYSQL_DEFAULT_VARCHAR,
  binaryColumnOf,
  binaryLength,
  declaredLength,
  encryptedTypeOf,
  idGenerationOf,
  maxIndexLength,
  nonTextNativeType,
  relationOf,
  suggestedBits,
  textColumnOf,
} from './field-declaration';
import { messages } from './messages';
import { RowIdentity } from './row-identity';
import { chooseRowKey } from './row-key';
import { defaultCall, generatedLength, isClientGenerated } from '../id-generation';

/**
 * Interprets and checks the annotations of one model: {@link ModelBuilder.build} returns its
 * metadata, and leaves every problem in `problems` and every warning in `warnings`.
 */
export class ModelBuilder {
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

  /**
   * A required `@unique` String, Int or BigInt that is a relation's whole foreign key: what an
   * id-less model could make its `@id` (bound, see {@link idKnownBeforeWrite}).
   */
  private uniqueForeignKey(): { name: string; type: string } | undefined {
    const field = this.model.fields.find(
      (f) =>
        f.kind === 'scalar' &&
        (f.type === 'String' || f.type === 'Int' || f.type === 'BigInt') &&
        f.isRequired &&
        !f.isList &&
        f.isUnique &&
        !f.hasDefaultValue &&
        this.isForeignKey(f.name),
    );
    return field === undefined ? undefined : { name: field.name, type: field.type };
  }

  /**
   * Whether the single id `field` is known before the row is written, so its values can be bound
   * to it: a String id the client generates or the caller gives, or an `Int`/`BigInt` id with no
   * default that is a relation's foreign key (a profile keyed by its user's id: given, or taken
   * from the related row), unless `@encryption(bind: ...)` names another field, as it could before
   * such ids were bound. An `Int` id the caller gives that no relation holds is left unbound:
   * values stored under it were sealed without it, and nothing would let them be bound again.
   */
  private idKnownBeforeWrite(field: DmmfField, generation: IdGeneration): boolean {
    if (field.type === 'String') return isClientGenerated(generation);
    if (field.type !== 'Int' && field.type !== 'BigInt') return false;
    return generation === 'none' && this.bindField === undefined && this.isForeignKey(field.name);
  }

  /** Whether `name` is the single foreign key of one of the model's relations. */
  private isForeignKey(name: string): boolean {
    return this.model.fields.some(
      (r) => r.kind === 'object' && r.relationFromFields?.length === 1 && r.relationFromFields[0] === name,
    );
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
    if (field.kind === 'object') this.report(field.name, messages.encryptedRelationField(field.type));
    else if (type === null)
      this.report(field.name, messages.encryptedType(field.type, field.isList, field.kind === 'enum'));
    if (type === 'Bytes') {
      const declared = binaryLength(field);
      if (declared !== null && declared.length < MIN_BINARY_ENVELOPE_BYTES)
        this.report(
          field.name,
          messages.binaryColumnTooShort(declared.type, declared.length, MIN_BINARY_ENVELOPE_BYTES),
        );
      // MySQL's BINARY(n) pads a shorter value with zero bytes, and keeps them when it returns it.
      if (declared?.type === 'Binary') this.report(field.name, messages.encryptedFixedBinary(declared.length));
    }
    const native = nonTextNativeType(field);
    if (native !== null) this.report(field.name, messages.notTextColumn('@encrypted', native, 'an envelope'));
    if (field.isId || this.model.primaryKey?.fields.includes(field.name))
      this.report(field.name, messages.encryptedId());
    // An empty list holds no plaintext, and reads back as a sealed list of no elements.
    const emptyList = type === 'String[]' && Array.isArray(field.default) && field.default.length === 0;
    if (field.hasDefaultValue && !emptyList) this.report(field.name, messages.encryptedDefault());
    // Every envelope differs (fresh data key and nonce), so a constraint on the column never fires.
    if (field.isUnique) this.report(field.name, messages.encryptedUnique('@unique'));
    for (const unique of this.model.uniqueIndexes.filter((u) => u.fields.includes(field.name)))
      this.report(field.name, messages.encryptedUnique(`part of @@unique([${unique.fields.join(', ')}])`));
    const declared = declaredLength(field);
    // A Char(n) pads a shorter envelope with spaces where the provider pads (or may: unknown).
    if (
      declared &&
      (type === 'String' || type === 'String[]') &&
      (textColumnOf(field, this.provider).fixedLength ?? 'trims') !== 'trims'
    )
      this.report(field.name, messages.encryptedFixedChar(declared.type, declared.length));
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
    const native = nonTextNativeType(field);
    if (native !== null) this.report(field.name, messages.notTextColumn('@blindIndex', native, 'an index value'));
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

  /**
   * Reports a bound id generated on the client that its column would not return as generated:
   * longer than a `VarChar(n)`/`Char(n)`, or shorter than a `Char(n)` that pads (a value the
   * caller gives is checked when it is written, by the extension's `storedForm`).
   */
  private checkGeneratedId(field: DmmfField, generation: IdGeneration): void {
    const declared = declaredLength(field);
    const needed = generatedLength(generation);
    if (declared === null || needed === undefined || needed === declared.length) return;
    const pads = (textColumnOf(field, this.provider).fixedLength ?? 'trims') !== 'trims';
    if (needed > declared.length || pads)
      this.report(field.name, messages.idColumnLength(declared.type, declared.length, defaultCall(generation), needed));
  }

  /** The model's metadata; meaningful only when `problems` stays empty. */
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
        ...textColumnOf(field, this.provider),
        ...binaryColumnOf(field, this.provider),
      };
    }
    const identity = new RowIdentity(
      this.model,
      this.fieldAnnotations,
      this.scopeField,
      this.bindField,
      (field, problem) => this.report(field, problem),
    );
    identity.checkScope();
    const idFields = this.model.primaryKey?.fields ?? this.model.fields.filter((f) => f.isId).map((f) => f.name);
    const idField = idFields.length === 1 ? this.field(idFields[0]) : undefined;
    const idGeneration = idField ? idGenerationOf(idField) : 'none';
    const idBound = idField !== undefined && this.idKnownBeforeWrite(idField, idGeneration);
    if (idBound && idField.type === 'String') this.checkGeneratedId(idField, idGeneration);
    const bind = identity.bind(idBound ? idField.name : undefined, idField !== undefined);
    if (idFields.length === 0 && Object.keys(encrypted).length > 0 && bind.bindField === undefined)
      this.warnings.push(`${this.model.name}: ${messages.noIdUnbound(this.model.name, this.uniqueForeignKey())}`);
    // A model without an @id is walked by the CLI by a unique criterion no rewrite of its changes.
    const rewritten = new Set([...Object.keys(encrypted), ...Object.keys(blindIndexes), ...Object.keys(matchIndexes)]);
    const rowKeyFields = idFields.length === 0 ? chooseRowKey(this.model, rewritten) : undefined;
    if (rowKeyFields?.length === 0 && Object.keys(encrypted).length > 0)
      this.warnings.push(`${this.model.name}: ${messages.noRowKey(this.model.name)}`);
    return {
      name: this.model.name,
      dbName: this.model.dbName ?? this.model.name,
      ...(this.model.schema ? { schema: this.model.schema } : {}),
      idFields: [...idFields],
      ...(rowKeyFields !== undefined ? { rowKeyFields } : {}),
      idGeneration,
      bindRowId: idBound || bind.bindField !== undefined,
      ...bind,
      ...(this.scopeField !== undefined ? { scopeField: this.scopeField } : {}),
      ...identity.scopeRelation(),
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
