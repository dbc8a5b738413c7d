/**
 * The catalog of the generator's messages. Each problem is reported as `Model.field: ...`
 * (or `Model: ...`) by `build-schema.ts` and the model checks it runs; these say what is wrong and
 * how to fix it.
 */

const list = (values: readonly string[]): string => values.join(', ');
const round = (n: number): string => (n >= 10 ? String(Math.round(n)) : String(Math.round(n * 100) / 100));

/** Generator messages, by problem. */
export const messages = {
  // Annotation syntax and vocabulary.
  unknownAnnotation: (name: string, suggestion: string) =>
    `unknown annotation @${name} (did you mean @${suggestion}?); hushfield annotations are never ignored`,
  malformed: (name: string, detail: string) => `malformed @${name}: ${detail}`,
  wrongLevel: (name: string, level: 'model' | 'field') =>
    level === 'field'
      ? `@${name} belongs on a model, not on a field (write "/// @${name}(scope: field)" above the model)`
      : `@${name} belongs on a field, not on a model`,
  positionalArgument: (name: string, value: string, allowed: readonly string[]) =>
    `@${name} takes named arguments (${list(allowed)}), found "${value}" without a name`,
  unknownArgument: (name: string, arg: string, allowed: readonly string[]) =>
    `@${name} has no argument "${arg}" (expected one of: ${list(allowed)})`,
  duplicateArgument: (name: string, arg: string) => `@${name} gives "${arg}" twice`,
  missingArgument: (name: string, arg: string) => `@${name} needs "${arg}"`,
  badFieldName: (name: string, arg: string, value: string) => `@${name}: "${arg}" must name a field, got "${value}"`,
  badValue: (name: string, arg: string, value: string, allowed: readonly string[]) =>
    `@${name}: "${value}" is not a valid ${arg} (expected one of: ${list(allowed)})`,
  badBits: (name: string, value: string) => `@${name}: bits must be an integer from 1 to 256, got "${value}"`,
  badExpected: (name: string, value: string) =>
    `@${name}: expected must be a positive integer (how many distinct values the source will hold), got "${value}"`,
  badMatchOption: (name: string, option: string, value: string, rule: string) =>
    `@${name}: ${option} must be an integer ${rule}, got "${value}"`,
  badMatchNormalizer: (name: string, value: string) =>
    `@${name}: normalize must be "lowercase" (each code point lower-cased on its own) or left out, got "${value}"; ` +
    'other normalizers (trim, nfkc, ...) do not keep "x contains y" true after normalizing, so results could miss rows',
  mixedNormalizerVersions: (name: string, normalizers: readonly string[]) =>
    `@${name}: normalize mixes normalizer versions (${list(normalizers)}); use one version for every step`,
  unexpectedQuery: (name: string) => `@${name} does not take "?option=value" options; use (name: value) arguments`,
  mixedForms: (name: string) => `@${name} mixes (arguments) and ?options; use one form`,
  unknownOption: (name: string, option: string, allowed: readonly string[]) =>
    `@${name} has no option "${option}" (expected one of: ${list(allowed)})`,
  optionNeedsValue: (name: string, option: string) => `@${name}: option "${option}" needs a value (${option}=...)`,
  conflictingModes: (name: string) => `@${name} names two different modes`,
  unsupportedNormalizer: (name: string, value: string, nearest: string) =>
    `@${name}: normalize=${value} from prisma-field-encryption is not supported; the nearest is ${nearest}`,
  hashNeedsSource: (name: string) => `@${name} needs exactly one source field, as in @${name}(email)`,
  takesNoArguments: (name: string) => `@${name} takes no arguments`,
  twoAnnotations: (first: string, second: string) =>
    `a field can carry one of @encrypted, @blindIndex or @matchIndex, found ${first} and ${second}`,

  commentedAnnotation: (annotation: string) =>
    `"// ${annotation}" is an ordinary comment, which Prisma does not pass to generators, so it does nothing; ` +
    'hushfield annotations are documentation comments: write it with three slashes (///)',
  annotatedLeftOut: (name: string, level: 'model' | 'field', why: string) =>
    `@${name} on a ${level} Prisma leaves out of its client (${why}) does nothing: the extension never sees its ` +
    `values; ${why === 'Unsupported' ? 'give it a type Prisma supports (String, Json, Bytes)' : `remove ${why}`} ` +
    'to protect them, or remove the annotation',
  annotatedView: (name: string) =>
    `@${name} on a view cannot work: values are bound to the table and column they were written to, so a ` +
    "view's copy of them never decrypts; read them through the table's model",
  annotatedEnum: (name: string, where: 'enum' | 'enum value') =>
    `@${name} on an ${where} does nothing: an enum column holds the enum's value names, which cannot be ` +
    'encrypted; hushfield annotations go on model fields (to encrypt the value, make the field a String)',

  // Encrypted fields.
  encryptedType: (type: string, isList: boolean, isEnum = false) =>
    `@encrypted is only supported on String, String[], Json and Bytes fields, not ${type}${isList ? '[]' : ''}` +
    (isEnum
      ? ` (an enum): its column holds only the names of ${type}'s values, never a ciphertext; ` +
        'to encrypt the value, make the field a String'
      : ': its ciphertext is text or bytes, which a column of that type cannot hold'),
  encryptedRelationField: (model: string) =>
    `@encrypted on a relation field does nothing: the relation to ${model} has no column of its own to encrypt; ` +
    `annotate the fields of ${model} that hold the values`,
  binaryColumnTooShort: (nativeType: string, length: number, needed: number) =>
    `@encrypted column is @db.${nativeType}(${length}), too short for a binary envelope ` +
    `(at least ${needed} bytes); use a BLOB or bytea column`,
  encryptedFixedChar: (nativeType: string, length: number) =>
    `@encrypted column is @db.${nativeType}(${length}), which returns a shorter value padded with spaces ` +
    '(PostgreSQL, SQL Server), and envelopes vary in length: no value would decrypt; use @db.Text or @db.VarChar(n)',
  encryptedFixedBinary: (length: number) =>
    `@encrypted column is @db.Binary(${length}), which stores a shorter value padded with zero bytes, and ` +
    'binary envelopes vary in length: no value would decrypt; use @db.VarBinary(n) or a BLOB type',
  indexSourceType: (source: string, type: string) =>
    `@blindIndex source "${source}" is a ${type} field; blind indexes are computed from String fields only`,
  encryptedId: () =>
    '@encrypted cannot be on an @id field: the row id is bound into the ciphertext and must stay readable',
  encryptedDefault: () =>
    '@encrypted field has a @default, which the database would store as plaintext; remove the default ' +
    '(a String[] may keep @default([]): an empty list holds no plaintext)',
  encryptedUnique: (constraint: string) =>
    `@encrypted field is ${constraint}, which the database checks on the ciphertext: every envelope differs, ` +
    'even of one value, so duplicates would pass; remove the constraint and put it on a full-length blind index ' +
    'of the field (/// @blindIndex(source: <field>) on a String @unique column)',
  notTextColumn: (annotation: string, native: string, what: string) =>
    `${annotation} column is @db.${native}, which cannot hold ${what} (the database parses or rewrites the ` +
    'value, so every write would fail or no value would read back); use @db.Text or @db.VarChar(n)',
  columnTooShort: (annotation: string, nativeType: string, length: number, needed: number, what: string) =>
    `${annotation} column is @db.${nativeType}(${length}), too short for ${what} (at least ${needed} characters); ` +
    'widen it or drop the length',
  mysqlDefaultVarchar: (length: number, overhead: number, fits: number) =>
    `@encrypted String has no @db type, which on MySQL is VARCHAR(${length}): an envelope is ${overhead} ` +
    `characters plus 4/3 of the value, so only values up to ${fits} bytes would fit; declare @db.Text ` +
    '(values up to about 48 KiB), @db.MediumText or @db.LongText',
  encryptedRelation: (relation: string) =>
    `@encrypted field is a foreign key of relation ${relation}; relation scalars cannot be encrypted`,

  // Blind indexes.
  indexType: (type: string, isList: boolean) =>
    `@blindIndex column must be a String or String?, not ${type}${isList ? '[]' : ''}`,
  indexSourceMissing: (source: string) => `@blindIndex source "${source}" is not a field of this model`,
  indexSourceNotEncrypted: (source: string) =>
    `@blindIndex source "${source}" is not encrypted; add /// @encrypted to it (an index of a plaintext field would only leak it)`,
  indexTruncatedUnique: (bits: number, constraint: string) =>
    `@blindIndex truncated to ${bits} bits cannot be ${constraint}: different values share truncated indexes; ` +
    'use the full length (omit bits) for unique lookups',
  indexRequiredSourceOptional: (source: string) =>
    `@blindIndex column is required but its source "${source}" is optional; make the column String?`,
  noIdUnbound: (model: string, foreignKey: { name: string; type: string } | undefined) =>
    `the model has no @id, so its encrypted values are bound to the model and field only, not to their row: a ` +
    `value copied to another ${model} row opens there (one member's secret in another's row, say). To bind each ` +
    'value to its row, ' +
    (foreignKey === undefined
      ? ''
      : `make ${foreignKey.name} the @id (\`${foreignKey.name} ${foreignKey.type} @id\`; values already stored open through ` +
        '`migratingBindings` until `hushfield reencrypt --rebind` has bound them), or, ') +
    'while the table holds no values, give it `id String @id @default(uuid())`',
  noRowKey: (model: string) =>
    `the model has no @id and no unique criterion the hushfield CLI can walk its rows by, so \`hushfield reencrypt\`, ` +
    `\`decrypt\`, \`status\` and \`keys shred\` refuse ${model}: give it an @id, or @unique (or @@unique) on required ` +
    'String, Int or BigInt fields that are not encrypted, blind or match indexes, or @updatedAt',
  bucketsTooSmall: (bits: number, expected: number, perBucket: number, suggestion: string) =>
    `@blindIndex with ${bits} bits and ${expected} expected values puts ~${round(perBucket)} values in each bucket: most values ` +
    `would sit alone in theirs, so the truncated index still tells them apart (privacy); ${suggestion}`,
  bucketsTooLarge: (bits: number, expected: number, perBucket: number, suggestion: string) =>
    `@blindIndex with ${bits} bits and ${expected} expected values puts ~${round(perBucket)} values in each bucket: every ` +
    `lookup would fetch and decrypt that many candidate rows; ${suggestion}`,
  expectedAtFullLength: (expected: number, suggestion: string) =>
    `@blindIndex has expected: ${expected} but no bits, so it is full length (unique per value) and expected changes nothing; ` +
    `to truncate it for privacy, ${suggestion}`,
  bitsSuggestion: (low: number, high: number) =>
    low <= high
      ? `use bits from ${low} to ${high} (2 to 1000 values per bucket)`
      : 'no bit count gives 2 to 1000 values per bucket',
  tooFewForTruncation: () => 'there are too few values for any truncation to hide them: keep the full length',
  indexPerScopeUnscoped: () =>
    '@blindIndex(perScope: true) needs the model to have a scope: add /// @encryption(scope: <field>) to the model ' +
    '(without one every row is in the scope "default", and a per-scope key would be one shared key)',
  indexDefault: () => '@blindIndex column has a @default; the extension computes it, remove the default',
  indexId: () => '@blindIndex column cannot be the @id',

  // Match indexes.
  matchType: (type: string, isList: boolean) =>
    `@matchIndex column must be Int[] (positions of a Bloom filter), not ${type}${isList ? '[]' : ''}`,
  matchProvider: (provider: string) =>
    `@matchIndex needs PostgreSQL (an Int[] column with a GIN index answers "holds every position"); ${provider} has ` +
    'no integer array with an inverted index, so every lookup would scan and decrypt the whole table',
  matchSourceMissing: (source: string) => `@matchIndex source "${source}" is not a field of this model`,
  matchSourceNotEncrypted: (source: string) =>
    `@matchIndex source "${source}" is not an encrypted String field; add /// @encrypted to it`,
  matchDefault: () => '@matchIndex column has a @default; the extension computes it, remove the default',
  matchNoId: () =>
    '@matchIndex needs a model with a single @id: candidates are narrowed to the matching ids before the query',

  // Scope.
  scopeMissing: (field: string) => `@encryption(scope: ${field}) names no field of this model`,
  scopeNotScalar: (field: string, why: string) =>
    `@encryption(scope: ${field}): the scope field must be a required String, Int or BigInt scalar (${why})`,
  scopeEncrypted: (field: string) =>
    `@encryption(scope: ${field}): the scope field cannot be encrypted or a blind index, its value names the key`,
  scopeNativeType: (field: string, native: string) =>
    `@encryption(scope: ${field}): a @db.${native} column does not return every value as written, and the ` +
    'scope key is picked by the value the row returns; use a Text, VarChar, Char or Uuid column',
  duplicateScope: () => 'model has more than one @encryption(scope: ...)',
  encryptionNeedsArgument: () => '@encryption needs "scope" or "bind"',

  // Binding to a field other than the id.
  duplicateBind: () => 'model has more than one @encryption(bind: ...)',
  bindMissing: (field: string) => `@encryption(bind: ${field}) names no field of this model`,
  bindNotScalar: (field: string, why: string) =>
    `@encryption(bind: ${field}): the bound field must be a required String scalar (${why})`,
  bindAnnotated: (field: string) =>
    `@encryption(bind: ${field}): the bound field cannot be encrypted or an index, its value is bound in the clear`,
  bindNotUnique: (field: string, scope: string | undefined) =>
    `@encryption(bind: ${field}): the bound field must be @unique (or the @id)` +
    (scope === undefined ? '' : `, or unique together with the scope field (@@id or @@unique([${scope}, ${field}]))`) +
    ': a value bound to a field two rows of one scope share could be copied between them',
  bindDatabaseGenerated: (field: string, generation: string) =>
    `@encryption(bind: ${field}): its value is chosen by the database (${generation}) after the write, ` +
    'so values written with the row cannot name it; use a client-generated default ' +
    '(uuid(), cuid(), ulid(), nanoid(), or a size or version of one) or none (the caller gives it)',
  bindNativeType: (field: string, native: string) =>
    `@encryption(bind: ${field}): a @db.${native} column does not return the value as written (padded or ` +
    'rewritten), and values are bound to it exactly; use a Text or VarChar column (VarChar(36) for a uuid)',
  bindColumnTooShort: (field: string, type: string, length: number, call: string, needed: number) =>
    `@encryption(bind: ${field}): ${type}(${length}) is shorter than the ${needed} characters of a ${call} ` +
    'value, which the database would cut or refuse; declare it at least that long',
  idColumnLength: (type: string, length: number, call: string, needed: number) =>
    `the row id is bound into the model's encrypted values and generated on the client as ${call} ` +
    `(${needed} characters), which a @db.${type}(${length}) column ` +
    (needed > length ? 'cannot hold' : 'returns padded with spaces, so no value would decrypt') +
    `; declare @db.${type === 'Char' ? 'Char' : 'VarChar'}(${needed}) or @db.Text`,
  bindForeignKey: (field: string, relation: string) =>
    `@encryption(bind: ${field}): the bound field is a foreign key of the relation ${relation}, which a ` +
    'connect or a cascade can change without the extension seeing the new value; bind a field of the row itself',
  bindNoSingleId: (field: string, hasId: boolean) =>
    hasId
      ? `@encryption(bind: ${field}) on a model with a compound @@id needs @encryption(scope: ...) too: ` +
        'bind the field that is unique together with the scope field'
      : `@encryption(bind: ${field}) on a model without an @id needs @encryption(scope: ...) too (bind the ` +
        `field that is unique together with the scope field), or make ${field} the @id instead of naming it ` +
        'here: a String @id the caller gives or the client generates, or a foreign key, binds the values to it',
  bindRedundant: (field: string, id: string) =>
    `@encryption(bind: ${field}): values are already bound to the id ${id} (generated before the write); ` +
    'bind names a field only on a model whose id the database assigns',

  // Models of one table name in two database schemas.
  sharedTableName: (other: string, table: string, schemas: readonly [string, string], columns: readonly string[]) =>
    `its table and ${other}'s are both named "${table}" (in the database schemas "${schemas[1]}" and ` +
    `"${schemas[0]}") and both encrypt the column${columns.length === 1 ? '' : 's'} ${columns.map((c) => `"${c}"`).join(', ')}: ` +
    'values are bound to the table and column names, not the schema, so a value copied from one table to the ' +
    'other would decrypt there; give one of the tables another name (@@map) or encrypt the column in one model only',

  // Key store model.
  keyStoreMissing: (model: string) =>
    `the key-store model ${model} is missing; paste the HushfieldKey model from @hushfield/prisma's docs/key-store.md ` +
    'into your schema (or set keyStoreModel in the generator block to its name)',
  keyStoreField: (model: string, field: string, expected: string) => `${model}.${field} must be ${expected}`,
  keyStoreUnique: (model: string, fields: readonly string[]) =>
    `${model} needs @@unique([${list(fields)}]) so that two writers cannot create the same key version`,
  keyStoreId: (model: string) => `${model} needs a single @id with a default (e.g. id String @id @default(uuid()))`,
  keyStoreAnnotated: (model: string) => `${model} is the key store and cannot carry hushfield annotations`,

  // Generator configuration.
  configKeyStoreModel: () => 'generator option keyStoreModel must be a single model name',
  configUnknown: (key: string) => `unknown generator option "${key}" (hushfield reads: keyStoreModel)`,
  noOutput: () => 'the hushfield generator needs an output directory: output = "./generated/hushfield"',

  /** Warnings, one a line. */
  warnings: (warnings: readonly string[]) =>
    `hushfield: ${warnings.length} warning${warnings.length === 1 ? '' : 's'} about the schema:\n` +
    warnings.map((w) => `  - ${w}`).join('\n'),

  /** The whole report, one problem a line. */
  report: (problems: readonly string[]) =>
    `hushfield: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the schema:\n` +
    problems.map((p) => `  - ${p}`).join('\n'),
} as const;
