/**
 * A model's row identity as the associated data binds values to it: checks the fields named
 * by `@encryption(scope: f)` and `@encryption(bind: f)` against the data model.
 */
import type { IdGeneration } from '../metadata';
import type { Annotation } from './annotations';
import type { DmmfField, DmmfModel } from './dmmf';
import { declaredLength, idGenerationOf } from './field-declaration';
import { defaultCall, generatedLength, isClientGenerated } from '../id-generation';
import { messages } from './messages';

const SCOPE_TYPES = ['String', 'Int', 'BigInt'];
/**
 * The text columns a bound field may have (besides none): they return the value as written (a
 * `Uuid` in the canonical form the extension binds). Not `Char` (padded), `Inet` (rewritten),
 * `Bit`, `VarBit`, `Xml`. How a column compares (`Citext`, a case-insensitive MySQL collation)
 * does not matter: the extension binds the value read from the row, never a where's.
 */
const EXACT_TEXT = ['Text', 'VarChar', 'TinyText', 'MediumText', 'LongText', 'Uuid', 'Citext'];
/**
 * The text columns a scope field may not have: they return values in another form than written
 * (`Inet` rewrites addresses, `Bit`/`VarBit` and `Xml` normalize, PostgreSQL's one-byte "char"
 * keeps one byte). A `Char(n)` may: the extension refuses the values it would return otherwise
 * (padded on PostgreSQL, without trailing spaces on MySQL).
 */
const SCOPE_REWRITING = ['Inet', 'Bit', 'VarBit', 'Xml', 'CatalogSingleChar'];

/**
 * Why a field that is not a scalar cannot be the scope or bound field, for the messages; for a
 * scope, a relation's single foreign key is the field to name instead (a bound field cannot be one).
 */
function notScalar(field: DmmfField, role: 'scope' | 'bind'): string {
  if (field.kind === 'enum') return 'it is an enum field';
  if (field.kind === 'unsupported') return 'it is an Unsupported field';
  const keys = field.relationFromFields ?? [];
  return role === 'scope' && keys.length === 1
    ? `it is a relation field; name its foreign key, ${keys[0]}`
    : 'it is a relation field';
}

/**
 * The scope and bound fields of one model, checked once its annotations are read; each problem
 * goes to `report` as `(field, message)`.
 */
export class RowIdentity {
  constructor(
    private readonly model: DmmfModel,
    private readonly fieldAnnotations: ReadonlyMap<string, readonly Annotation[]>,
    private readonly scopeField: string | undefined,
    private readonly bindField: string | undefined,
    private readonly report: (field: string, problem: string) => void,
  ) {}

  private field(name: string): DmmfField | undefined {
    return this.model.fields.find((f) => f.name === name);
  }

  /**
   * Reports a scope field that is missing, not a required String, Int or BigInt scalar, of a
   * text column type that rewrites its values, or annotated.
   */
  checkScope(): void {
    const name = this.scopeField;
    if (name === undefined) return;
    const field = this.field(name);
    if (!field) return this.report(name, messages.scopeMissing(name));
    if (field.kind !== 'scalar') this.report(name, messages.scopeNotScalar(name, notScalar(field, 'scope')));
    else if (field.isList) this.report(name, messages.scopeNotScalar(name, 'it is a list'));
    else if (!field.isRequired) this.report(name, messages.scopeNotScalar(name, 'it is optional'));
    else if (!SCOPE_TYPES.includes(field.type)) this.report(name, messages.scopeNotScalar(name, `it is ${field.type}`));
    else if (field.type === 'String' && field.nativeType && SCOPE_REWRITING.includes(field.nativeType[0]))
      this.report(name, messages.scopeNativeType(name, field.nativeType[0]));
    if (this.fieldAnnotations.get(name)?.length) this.report(name, messages.scopeEncrypted(name));
  }

  /**
   * The binding of `@encryption(bind: f)`: the field and how it gets its value, when the field
   * is a required String known before the write, unique alone or together with the scope field
   * (see {@link RowIdentity.identifiesRow}), and the id is not bound already. A model with a
   * compound id must be scoped: its rows are then told apart by scope and bound value.
   */
  bind(idBound: string | undefined, singleId: boolean): { bindField?: string; bindGeneration?: IdGeneration } {
    const name = this.bindField;
    if (name === undefined) return {};
    const field = this.field(name);
    if (!field) return this.reportBind(name, messages.bindMissing(name));
    if (idBound !== undefined) return this.reportBind(name, messages.bindRedundant(name, idBound));
    if (!singleId && this.scopeField === undefined) {
      const hasId = this.model.primaryKey != null || this.model.fields.some((f) => f.isId);
      return this.reportBind(name, messages.bindNoSingleId(name, hasId));
    }
    if (field.kind !== 'scalar') return this.reportBind(name, messages.bindNotScalar(name, notScalar(field, 'bind')));
    if (field.isList) return this.reportBind(name, messages.bindNotScalar(name, 'it is a list'));
    if (!field.isRequired) return this.reportBind(name, messages.bindNotScalar(name, 'it is optional'));
    if (field.type !== 'String') return this.reportBind(name, messages.bindNotScalar(name, `it is ${field.type}`));
    if (this.fieldAnnotations.get(name)?.length) return this.reportBind(name, messages.bindAnnotated(name));
    const native = field.nativeType?.[0];
    if (native !== undefined && !EXACT_TEXT.includes(native))
      return this.reportBind(name, messages.bindNativeType(name, native));
    const relation = this.model.fields.find((f) => f.kind === 'object' && f.relationFromFields?.includes(name));
    if (relation) return this.reportBind(name, messages.bindForeignKey(name, relation.name));
    if (!this.identifiesRow(field)) return this.reportBind(name, messages.bindNotUnique(name, this.scopeField));
    const generation = idGenerationOf(field);
    if (!isClientGenerated(generation)) return this.reportBind(name, messages.bindDatabaseGenerated(name, generation));
    const declared = declaredLength(field);
    const needed = generatedLength(generation);
    if (declared !== null && needed !== undefined && declared.length < needed)
      return this.reportBind(
        name,
        messages.bindColumnTooShort(name, declared.type, declared.length, defaultCall(generation), needed),
      );
    return { bindField: name, bindGeneration: generation };
  }

  /**
   * Whether the bound field's value tells its row from every other the key could open: it is
   * unique alone, or together with the scope field (a compound `@@id` or `@@unique` of exactly
   * those two, in either order). A value copied to another row of the scope then meets another
   * bound value; one copied to another scope fails the read's scope check (`FieldContext.scope`).
   */
  private identifiesRow(field: DmmfField): boolean {
    const exactly = (fields: readonly string[] | undefined, expected: readonly string[]) =>
      fields !== undefined && fields.length === expected.length && expected.every((name) => fields.includes(name));
    const keys = [
      ...this.model.uniqueIndexes.map((u) => u.fields),
      ...(this.model.primaryKey ? [this.model.primaryKey.fields] : []),
    ];
    if (field.isUnique || field.isId || keys.some((fields) => exactly(fields, [field.name]))) return true;
    const scope = this.scopeField;
    return scope !== undefined && scope !== field.name && keys.some((fields) => exactly(fields, [scope, field.name]));
  }

  private reportBind(field: string, problem: string): Record<string, never> {
    this.report(field, problem);
    return {};
  }

  /** The relation whose foreign key is the scope field, if any (see `ModelMeta.scopeRelation`). */
  scopeRelation(): { scopeRelation?: string } {
    const scope = this.scopeField;
    if (scope === undefined) return {};
    const relation = this.model.fields.find((f) => f.kind === 'object' && f.relationFromFields?.includes(scope));
    return relation ? { scopeRelation: relation.name } : {};
  }
}
