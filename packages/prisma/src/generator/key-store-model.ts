/**
 * Checks that the key-store model (`HushfieldKey` unless configured) has every field and
 * constraint `PrismaKeyStore` relies on, so a broken key store fails at `prisma generate`
 * rather than at the first encrypted write in production.
 */
import type { DmmfField, DmmfModel } from './dmmf';
import { messages } from './messages';

interface Expected {
  readonly type: string;
  readonly required: boolean;
  /** Must be filled by Prisma or the database on create (the store does not send it). */
  readonly generated?: 'default' | 'updatedAt';
}

/** The fields `PrismaKeyStore` reads and writes, by Prisma field name. */
export const KEY_STORE_FIELDS: Readonly<Record<string, Expected>> = {
  keyId: { type: 'String', required: true },
  kind: { type: 'String', required: true },
  scope: { type: 'String', required: true },
  version: { type: 'Int', required: true },
  state: { type: 'String', required: true },
  wrappedKey: { type: 'String', required: false },
  keyringId: { type: 'String', required: true },
  createdAt: { type: 'DateTime', required: true, generated: 'default' },
  updatedAt: { type: 'DateTime', required: true, generated: 'updatedAt' },
};

/** The compound uniques that make concurrent inserts of one key version conflict. */
export const KEY_STORE_UNIQUES: readonly (readonly string[])[] = [
  ['kind', 'scope', 'version'],
  ['keyId', 'version'],
];

function describe(expected: Expected): string {
  const type = `${expected.type}${expected.required ? '' : '?'}`;
  if (expected.generated === 'default') return `${type} with a @default (e.g. @default(now()))`;
  if (expected.generated === 'updatedAt') return `${type} with @updatedAt`;
  return type;
}

function fits(field: DmmfField, expected: Expected): boolean {
  if (field.kind !== 'scalar' || field.isList || field.type !== expected.type) return false;
  if (field.isRequired !== expected.required) return false;
  if (expected.generated === 'default') return field.hasDefaultValue;
  if (expected.generated === 'updatedAt') return field.isUpdatedAt === true || field.hasDefaultValue;
  return true;
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((name) => b.includes(name));

/**
 * @returns one message per problem with the key-store model, or a single "missing" message.
 */
export function checkKeyStoreModel(models: readonly DmmfModel[], name: string): string[] {
  const model = models.find((m) => m.name === name);
  if (!model) return [messages.keyStoreMissing(name)];
  const problems: string[] = [];
  for (const [fieldName, expected] of Object.entries(KEY_STORE_FIELDS)) {
    const field = model.fields.find((f) => f.name === fieldName);
    if (!field || !fits(field, expected)) problems.push(messages.keyStoreField(name, fieldName, describe(expected)));
  }
  for (const unique of KEY_STORE_UNIQUES) {
    if (!model.uniqueIndexes.some((index) => sameSet(index.fields, unique)))
      problems.push(messages.keyStoreUnique(name, unique));
  }
  const ids = model.primaryKey ? model.primaryKey.fields : model.fields.filter((f) => f.isId).map((f) => f.name);
  const id = ids.length === 1 ? model.fields.find((f) => f.name === ids[0]) : undefined;
  if (!id || !id.hasDefaultValue) problems.push(messages.keyStoreId(name));
  return problems;
}
