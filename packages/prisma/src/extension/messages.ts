/**
 * The extension's error messages, in one place. They name models, fields, operations and
 * row ids (not secret) and never receive a value of an encrypted field, a blind-index value,
 * ciphertext or key material.
 */
import { DecryptionError, InvalidArgumentError, RowMovedError, UnsupportedQueryError } from '@hushfield/core';
import type { ModelMeta } from '../metadata';
import type { ColumnCapacity } from '../column-capacity';

const catalog = {
  operator: (model: string, field: string, operation: string) =>
    `${model}.${field} is encrypted: "${operation}" would send its plaintext to the database or ` +
    'cannot be answered from ciphertext; only equality, in, notIn and not are supported, through a blind index',
  noBlindIndex: (model: string, field: string, operation: string) =>
    `${model}.${field} is encrypted and has no blind index: "${operation}" cannot be answered ` +
    '(add /// @blindIndex(source: ...) or filter on another field)',
  ordering: (model: string, field: string, operation: string) =>
    `${model}.${field} is encrypted or a blind index: "${operation}" on it would order or group by ` +
    'ciphertext; sort or group after decryption instead',
  truncated: (model: string, field: string, operation: string) =>
    `${model}.${field} has a truncated blind index: "${operation}" is only supported as an equality or in ` +
    'at the top level of a where (not under OR, NOT, a relation filter, a cursor, a connect or a batch $transaction)',
  noMatchIndex: (model: string, field: string, operation: string) =>
    `${model}.${field} is encrypted and has no match index: "${operation}" cannot be answered from ciphertext ` +
    '(add /// @matchIndex(source: ...) on an Int[] column, or filter on another field)',
  matchPosition: (model: string, field: string, operation: string) =>
    `${model}.${field}: "${operation}" through a match index is only supported at the top level of a where or ` +
    'under AND (not under OR, NOT, a relation filter, a cursor, a connect or a batch $transaction), where hushfield ' +
    'can decrypt the candidates and drop the false positives',
  matchMode: (model: string, field: string, operation: string) =>
    `${model}.${field}: "${operation}" needs a match index with normalize: "lowercase" (mode: 'insensitive'), ` +
    'and mode can only accompany contains, startsWith or endsWith on an encrypted field',
  matchTooShort: (model: string, field: string, operation: string) =>
    `${model}.${field}: the "${operation}" text is shorter than its match index's n-gram (counting the start or ` +
    'end of the value for startsWith and endsWith), so the index cannot narrow it; give a longer text',
  matchTooLong: (model: string, field: string, operation: string) =>
    `${model}.${field}: the "${operation}" text is longer than the values its match index takes (maxLength), ` +
    'so no stored value can match it',
  setMatchIndex: (model: string, field: string) =>
    `${model}.${field} is a match index computed by hushfield; set its source field instead`,
  setBlindIndex: (model: string, field: string) =>
    `${model}.${field} is a blind index computed by hushfield; set its source field instead`,
  aggregate: (model: string, field: string, operation: string) =>
    `${model}.${field} is encrypted: "${operation}" would aggregate ciphertext`,
  rowContext: (model: string, field: string, operation: string) =>
    `cannot write ${model}.${field} in "${operation}": hushfield needs the row's id and scope, ` +
    'give the id in a unique where or write the row with a top-level update',
  rekeyMany: (model: string, field: string, operation: string) =>
    `"${operation}" cannot change ${model}.${field}: the row's encrypted values are bound to it; create a new row instead`,
  scopeMove: (model: string, field: string, operation: string) =>
    `a nested "${operation}" cannot move ${model}.${field} to another scope: the row's encrypted values would ` +
    "stay under the old scope's key; move the row with a top-level update or updateMany",
  scopeRelation: (model: string, field: string, operation: string) =>
    `"${operation}" cannot write ${model}.${field}: the relation sets the row's encryption scope, and moving ` +
    "the row there would leave its encrypted values under the old scope's key; set the scope field itself " +
    'in a top-level update (hushfield re-encrypts the row)',
  scopeLink: (model: string, field: string, operation: string) =>
    `a nested "${operation}" would set ${model}.${field} of existing rows, moving them to another encryption scope ` +
    "with their values still under the old scope's key; move a row with a top-level update of its scope field " +
    '(hushfield re-encrypts it), or create it here',
  scopeRequired: (model: string, field: string, scopeField: string) =>
    `${model}.${field} is looked up through a per-scope blind index, whose values are keyed by each row's scope: ` +
    `the same where must give ${model}.${scopeField} one value (an equality beside it or in an AND around it)`,
  skipInList: (argument: string) =>
    `Prisma.skip cannot be an element of a list (in ${argument}): Prisma refuses it too; ` +
    'use null, or leave the element out',
  skipSelect: (argument: string) =>
    `${argument} is Prisma.skip, which selects nothing: Prisma refuses an empty select too; ` +
    'leave select out to read every field',
  notString: (model: string, field: string) => `${model}.${field} is encrypted and takes a string or null`,
  notTyped: (model: string, field: string, what: string) => `${model}.${field} is encrypted and takes ${what}`,
  notJson: (model: string, field: string, reason: string) =>
    `${model}.${field} is encrypted and takes a JSON value, Prisma.JsonNull or Prisma.DbNull; ` +
    `this one holds ${reason}, which Prisma refuses for a plain Json field too`,
  typedFilter: (model: string, field: string, operation: string) =>
    `${model}.${field} is encrypted and sealed whole: "${operation}" cannot be answered from its ciphertext ` +
    '(only null checks are; a JSON null is sealed like any other value), filter after reading instead',
  listFilter: (model: string, field: string, operation: string) =>
    `${model}.${field} is an encrypted list, each element sealed on its own under the row's key: "${operation}" ` +
    'cannot be answered from the stored elements (no list filter can), so it was not sent; read the rows ' +
    'and filter their lists after reading instead',
  nestedOperation: (model: string, _field: string, operation: string) =>
    `"${operation}" is not a nested write Prisma knows (under a relation to ${model}, which holds encrypted ` +
    'fields): refused before Prisma could echo its arguments, plaintext included, in a validation error',
  scopeGroup: (model: string, field: string, operation: string) =>
    `${model}.${field} is a per-scope blind index: equal values of different scopes have different index ` +
    `values, so "${operation}" by it would split their groups; add the model's scope field to it, or give ` +
    'the scope field one value in the where',
  migratingGroup: (model: string, field: string, operation: string) =>
    `${model}.${field} is a per-scope blind index still migrating from the shared one: rows hold values of ` +
    `either kind, so "${operation}" by it would split groups; run hushfield reencrypt, then mark it perScope: true`,
  scopeCascade: (model: string, field: string, operation: string) =>
    `${operation} would change ${model}.${field} of existing rows through their foreign key (a cascading update), ` +
    "moving them to another encryption scope with their values still under the old scope's key; " +
    'hushfield refuses any update of this column (it cannot see which rows would follow it)',
  bindingCascade: (model: string, field: string, operation: string) =>
    `${operation} would change ${model}.${field} of existing rows through their foreign key (a cascading update), ` +
    `and their encrypted values are bound to the old ${field}: they would no longer decrypt. hushfield refuses any ` +
    `update of this column (it cannot see which rows would follow it); to change it, read the ${model} row through ` +
    `the extension, delete it, change the id and create the ${model} row again with its values`,
  bindingRelation: (model: string, field: string, operation: string) =>
    `"${operation}" cannot write ${model}.${field}: its foreign key is the id the row's encrypted values are bound ` +
    `to, and linking another row there would change that id, so the values would no longer decrypt; create a new ` +
    `${model} row for the other one instead`,
  bindingUnknown: (model: string, field: string, operation: string) =>
    `cannot ${operation} ${model} here: its encrypted values are bound to ${field}, which the database takes from ` +
    `a related row it assigns the id of in the same write, unknown before the values are sealed; create that ` +
    `row first, then the ${model} row giving its ${field} or connecting it`,
  bindingLink: (model: string, field: string, operation: string) =>
    `a nested "${operation}" would set ${model}.${field} of an existing row to this row's, and the ${model} row's ` +
    `encrypted values are bound to its ${field}, so they would no longer decrypt; create the ${model} row here ` +
    '(a nested create or upsert) instead',
  nestedUpdateShape: (model: string, _field: string, operation: string) =>
    `a nested "${operation}" of ${model} mixes the { where, data } form with fields of its own, and ${model} has ` +
    'no field named data: refused before Prisma could echo its arguments, plaintext included, in a validation error',
  fieldReference: (model: string, field: string, operation: string) =>
    `${model}.${field} stores ciphertext or a keyed index: comparing another column with it ("${operation}") ` +
    'would compare against ciphertext and silently match nothing',
  listPush: (model: string, field: string, operation: string) =>
    `${model}.${field} is an encrypted list: "${operation}" cannot add to it in the database (each element is ` +
    'bound to its position and the list length); read the list and write it whole with set',
  notUuid: (model: string, field: string) =>
    `${model}.${field} is a uuid column and names the row's encryption context: give a UUID (any case, with or without hyphens or braces)`,
  nulInBound: (model: string, field: string, why: string) =>
    `${model}.${field} must not contain a NUL character (U+0000): ${why}, and the row's encrypted values are ` +
    'bound to it, so they would never open; nothing was sealed or sent',
  notAsStored: (model: string, field: string, column: string, why: string) =>
    `${model}.${field} is a ${column} column and names the row's encryption context, which the row must ` +
    `return exactly as written: ${why}`,
  sealedTooLong: (model: string, field: string, column: string, larger: string) =>
    `${model}.${field}: the sealed value is longer than its ${column} column holds, which the database would ` +
    `refuse, or cut to fit (a cut envelope never decrypts); nothing was sent: declare a longer column (${larger})`,
  listElementTooLong: (model: string, field: string, index: number, count: number, column: string, larger: string) =>
    `${model}.${field}: element ${index} of the ${count} given (counting from 0) is too long for the column: each ` +
    `element is encrypted on its own and its envelope, longer than the element, must fit the list's ${column} ` +
    `elements, which the database would refuse, or cut to fit (a cut envelope never decrypts); nothing was sent: ` +
    `write a shorter element, or declare the list's elements longer (${larger})`,
  scopeMissing: (model: string, field: string) =>
    `${model}.${field} names the encryption scope and cannot be known for this create: give it, or create the ` +
    'row under (or connect it to) the related row it comes from; an id generated by the database is not known before the write',
  relatedRowMissing: (model: string, relation: string, target: string) =>
    `${model}.${relation}: the connect names no ${target} row, so the row's encryption scope cannot be known`,
  connectOrCreateConflict: (model: string, relation: string, field: string) =>
    `${model}.${relation}: the connectOrCreate's where and create give ${field} different values, ` +
    "so the row's encryption scope would depend on which one runs; make them agree",
  otherScope: (model: string, field: string, rowId: string | undefined, scope: string) =>
    `${model}.${field}${rowId === undefined ? '' : ` (row ${rowId})`} is sealed under a key that is not ` +
    `its row's scope "${scope}": copied from another scope's row, or the row's scope column was changed ` +
    "outside the extension (after adding or changing the model's scope, list it in migratingScopes " +
    'until `hushfield reencrypt --rescope` has run)',
  noRowScope: (model: string, field: string, rowId: string | undefined, scopeField: string) =>
    `${model}.${field}${rowId === undefined ? '' : ` (row ${rowId})`} cannot be checked against its row's ` +
    `scope: the row holds no valid ${scopeField} (null or empty in the database, or left out by a ` +
    `client-level omit the extension cannot see: give fieldEncryption the client's omit, or select ${scopeField})`,
  noRowBinding: (model: string, field: string, bound: string) =>
    `${model}.${field} cannot be opened: its values are bound to ${bound}, which the row read does not hold (left ` +
    `out by a client-level omit the extension cannot see: give fieldEncryption the client's omit, or select ${bound})`,
  decryptFailed: (model: string, field: string, rowId?: string) =>
    `${model}.${field} failed to decrypt${rowId === undefined ? '' : ` (row ${rowId})`}: tampered, moved ` +
    'to another row or column, or not an envelope',
  sealedUnbound: (model: string, field: string, rowId?: string) =>
    `${model}.${field}${rowId === undefined ? '' : ` (row ${rowId})`} was sealed without the field its values ` +
    'are bound to (written before its @encryption(bind: ...) was added, or before hushfield bound its ' +
    `foreign-key id): list ${model} in migratingBindings to read it, and run ` +
    `\`hushfield reencrypt --model ${model} --rebind\` to bind it`,
  foreignCiphertext: (model: string, field: string, rowId?: string) =>
    `${model}.${field}${rowId === undefined ? '' : ` (row ${rowId})`} holds a prisma-field-encryption ` +
    '(@47ng/cloak) ciphertext, which is never returned as plaintext; import it with ' +
    '`hushfield reencrypt --from-pfe-key`',
  notEnvelope: (model: string, field: string, rowId?: string) =>
    `${model}.${field}${rowId === undefined ? '' : ` (row ${rowId})`} holds a value that is not a hushfield ` +
    'envelope; in strict mode it is never returned as plaintext',
  rowMoved: (model: string, operation: string, attempts: number) =>
    `"${operation}" on ${model} was not written: the row moved to another scope between hushfield's read ` +
    `of its scope and the write, ${attempts} times in a row; nothing was written, try again`,
} as const;

/** Throws nothing; builds the typed error for a query that would leak or cannot be answered. */
export function unsupported(
  kind:
    | 'operator'
    | 'noBlindIndex'
    | 'ordering'
    | 'truncated'
    | 'noMatchIndex'
    | 'matchPosition'
    | 'matchMode'
    | 'matchTooShort'
    | 'matchTooLong'
    | 'aggregate'
    | 'rowContext'
    | 'rekeyMany'
    | 'scopeMove'
    | 'scopeRelation'
    | 'scopeLink'
    | 'typedFilter'
    | 'listFilter'
    | 'listPush'
    | 'nestedOperation'
    | 'nestedUpdateShape'
    | 'scopeCascade'
    | 'bindingCascade'
    | 'bindingRelation'
    | 'bindingLink'
    | 'bindingUnknown'
    | 'scopeGroup'
    | 'migratingGroup'
    | 'fieldReference',
  model: string,
  field: string,
  operation: string,
): UnsupportedQueryError {
  return new UnsupportedQueryError(catalog[kind](model, field, operation), { model, field, operation });
}

/** A caller tried to write a blind-index column. */
export function blindIndexWrite(model: string, field: string): UnsupportedQueryError {
  return new UnsupportedQueryError(catalog.setBlindIndex(model, field), { model, field, operation: 'set' });
}

/** A caller tried to write a match-index column. */
export function matchIndexWrite(model: string, field: string): UnsupportedQueryError {
  return new UnsupportedQueryError(catalog.setMatchIndex(model, field), { model, field, operation: 'set' });
}

/** A lookup through a per-scope blind index whose where does not name the scope. */
export function scopeRequired(model: string, field: string, scopeField: string): UnsupportedQueryError {
  return new UnsupportedQueryError(catalog.scopeRequired(model, field, scopeField), {
    model,
    field,
    operation: 'where',
  });
}

/**
 * A caller passed a value of the wrong type for an encrypted `Json`, `Bytes` or `String[]` field
 * (`what` says what it takes, e.g. `'bytes (a Uint8Array) or null'`).
 */
export function notTyped(model: string, field: string, what: string): InvalidArgumentError {
  return new InvalidArgumentError(catalog.notTyped(model, field, what), `${model}.${field}`);
}

/**
 * A value of an encrypted `Json` field that Prisma would refuse (json-input.ts). `reason` names
 * what it holds (`a function`), never the value or its keys, which are plaintext.
 */
export function notJson(model: string, field: string, reason: string): InvalidArgumentError {
  return new InvalidArgumentError(catalog.notJson(model, field, reason), `${model}.${field}`);
}

/**
 * `Prisma.skip` as an element of a list in the operation's `argument` (`data`, `where`...),
 * which Prisma refuses. Named by the argument only: a `Json` value's keys are plaintext.
 */
export function skipInList(argument: string): InvalidArgumentError {
  return new InvalidArgumentError(catalog.skipInList(argument), argument);
}

/** `select: Prisma.skip` at `path` (`include.posts.select`): an empty selection, which Prisma refuses. */
export function skipSelect(path: string): InvalidArgumentError {
  return new InvalidArgumentError(catalog.skipSelect(path), path);
}

/** A caller passed a non-string value for an encrypted field. */
export function notString(model: string, field: string): InvalidArgumentError {
  return new InvalidArgumentError(catalog.notString(model, field), `${model}.${field}`);
}

/** A value for a `@db.Uuid` id or scope column that is not a UUID. */
export function notUuid(model: string, field: string): InvalidArgumentError {
  return new InvalidArgumentError(catalog.notUuid(model, field), `${model}.${field}`);
}

/**
 * A bound value (a row id, or the field `@encryption(bind: f)` names) holding U+0000 where the
 * database cannot store it as written (`why`, see `nulRefusal`). Names the field, never the value.
 */
export function nulInBound(model: string, field: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(catalog.nulInBound(model, field, why), `${model}.${field}`);
}

/**
 * A value for an id, bound or scope column that the column would not return as written (see
 * `storedForm`); `why` says what the database would do to it, never the value.
 */
export function notAsStored(model: string, field: string, column: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(catalog.notAsStored(model, field, column, why), `${model}.${field}`);
}

/**
 * The envelope of a value is longer than its column holds (a `VarChar(n)`/`Char(n)`, a MySQL
 * TEXT type; `column` as {@link columnCapacity} names it): refused before the write is sent.
 * The message names the column, never the value.
 */
export function sealedTooLong(model: ModelMeta, field: string, capacity: ColumnCapacity): InvalidArgumentError {
  return new InvalidArgumentError(
    catalog.sealedTooLong(model.name, field, capacity.column, capacity.larger),
    `${model.name}.${field}`,
  );
}

/**
 * An element of an encrypted `String[]` whose envelope is longer than the list's element type
 * holds (`varchar(n)[]`): refused before the write is sent. Names the element's position, never
 * its value.
 * @param index - the first element too long, from 0
 * @param count - how many elements the list has
 */
export function listElementTooLong(
  model: ModelMeta,
  field: string,
  index: number,
  count: number,
  capacity: ColumnCapacity,
): InvalidArgumentError {
  return new InvalidArgumentError(
    catalog.listElementTooLong(model.name, field, index, count, capacity.column, capacity.larger),
    `${model.name}.${field}`,
  );
}

/** A create lacks the scope field's value. */
export function scopeMissing(model: string, field: string): InvalidArgumentError {
  return new InvalidArgumentError(catalog.scopeMissing(model, field), `${model}.${field}`);
}

/** A create's connect on the relation its scope comes from names no row. */
export function relatedRowMissing(model: string, relation: string, target: string): InvalidArgumentError {
  return new InvalidArgumentError(catalog.relatedRowMissing(model, relation, target), `${model}.${relation}`);
}

/** A create's connectOrCreate on the relation its scope comes from could link rows of two scopes. */
export function connectOrCreateConflict(model: string, relation: string, field: string): InvalidArgumentError {
  return new InvalidArgumentError(catalog.connectOrCreateConflict(model, relation, field), `${model}.${relation}`);
}

/** A value is sealed under a key of another scope than its row's `scope`; `cause` is core's error. */
export function otherScope(
  model: string,
  field: string,
  rowId: string | undefined,
  scope: string,
  cause: unknown,
): DecryptionError {
  return new DecryptionError(
    catalog.otherScope(model, field, rowId, scope),
    { model, field, rowId },
    { cause, otherScope: scope },
  );
}

/** A value of a scoped model's row whose scope field holds no valid scope (or is absent): not opened. */
export function noRowScope(
  model: string,
  field: string,
  rowId: string | undefined,
  scopeField: string,
): DecryptionError {
  return new DecryptionError(catalog.noRowScope(model, field, rowId, scopeField), { model, field, rowId });
}

/** A value of a bound model's row that does not hold the field its values are bound to. */
export function noRowBinding(model: string, field: string, bound: string): DecryptionError {
  return new DecryptionError(catalog.noRowBinding(model, field, bound), { model, field });
}

/** A value failed to decrypt; `cause` is core's typed error. */
export function decryptFailed(
  model: string,
  field: string,
  rowId: string | undefined,
  cause?: unknown,
): DecryptionError {
  return new DecryptionError(catalog.decryptFailed(model, field, rowId), { model, field, rowId }, { cause });
}

/**
 * A value of a bound model opens only without its binding, and the model is not listed in
 * `migratingBindings`: what opened is not returned.
 */
export function sealedUnbound(model: string, field: string, rowId: string | undefined): DecryptionError {
  return new DecryptionError(catalog.sealedUnbound(model, field, rowId), { model, field, rowId });
}

/** A strict-mode field holds something that is not an envelope. */
export function notEnvelope(model: string, field: string, rowId: string | undefined): DecryptionError {
  return new DecryptionError(catalog.notEnvelope(model, field, rowId), { model, field, rowId });
}

/**
 * A value in a `migrating`/`readonly` field that is another library's ciphertext: returning it
 * as legacy plaintext would let the application write it back as if it were the real value.
 */
export function foreignCiphertext(model: string, field: string, rowId?: string): DecryptionError {
  return new DecryptionError(catalog.foreignCiphertext(model, field, rowId), { model, field, rowId });
}

/** An update kept finding its row moved to another scope between the read and the write. */
export function rowMoved(model: string, operation: string, attempts: number): RowMovedError {
  return new RowMovedError(catalog.rowMoved(model, operation, attempts), { model, operation, attempts });
}
