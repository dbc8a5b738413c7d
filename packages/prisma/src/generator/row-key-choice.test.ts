import { validateSchema } from './build-schema';
import type { DmmfDocument, DmmfModel } from './dmmf';
import { dmmfField, type FieldInit, keyStoreModel } from './dmmf.fixture';

const field = dmmfField;
const keyStore = keyStoreModel();

/** An id-less `Card` with an encrypted `pin` and `fields`, its `@@unique`s `uniques`. */
function card(fields: FieldInit[], uniques: string[][] = [], encrypted = true): DmmfDocument {
  const pin: FieldInit = { name: 'pin', ...(encrypted ? { documentation: '@encrypted' } : {}) };
  const model: DmmfModel = {
    name: 'Card',
    dbName: null,
    primaryKey: null,
    fields: [...fields, pin].map(field),
    uniqueIndexes: uniques.map((fields) => ({ name: null, fields })),
  };
  return { datamodel: { models: [model, keyStore] } };
}

function generate(document: DmmfDocument) {
  const result = validateSchema(document, {});
  expect(result.problems).toEqual([]);
  return { card: result.schema!.models.Card, warnings: result.warnings.filter((w) => w.includes('walk')) };
}

describe('the row key of a model without an @id', () => {
  it('is not recorded for a model with an @id (its id is the key)', () => {
    const { card: withId } = generate(
      card([
        { name: 'id', isId: true },
        { name: 'code', isUnique: true },
      ]),
    );
    expect(withId.idFields).toEqual(['id']);
    expect('rowKeyFields' in withId).toBe(false);
  });

  it('is the first required @unique, not an optional one declared before it', () => {
    const { card: model, warnings } = generate(
      card([
        { name: 'label', isUnique: true, isRequired: false },
        { name: 'code', isUnique: true },
        { name: 'serial', type: 'Int', isUnique: true },
      ]),
    );
    expect(model.rowKeyFields).toEqual(['code']);
    expect(warnings).toEqual([]);
  });

  it('is a compound @@unique of required fields when no single unique qualifies, not one with an optional field', () => {
    const { card: model } = generate(
      card(
        [
          { name: 'holderIdx', isUnique: true, documentation: '@blindIndex(source: pin)' },
          { name: 'venue' },
          { name: 'label', isRequired: false },
          { name: 'seat', type: 'Int' },
        ],
        [
          ['venue', 'label'],
          ['venue', 'seat'],
        ],
      ),
    );
    expect(model.rowKeyFields).toEqual(['venue', 'seat']);
  });

  it.each([
    ['a blind index', { name: 'pinIdx', isUnique: true, documentation: '@blindIndex(source: pin)' }],
    ['an @updatedAt field', { name: 'touched', type: 'DateTime', isUnique: true, isUpdatedAt: true }],
    ['an enum', { name: 'tier', kind: 'enum', type: 'Tier', isUnique: true }],
    ['a Boolean', { name: 'flag', type: 'Boolean', isUnique: true }],
    ['a Bytes field', { name: 'raw', type: 'Bytes', isUnique: true }],
    ['an optional field', { name: 'label', isUnique: true, isRequired: false }],
    ['a Float (a @db.Real does not read back exactly)', { name: 'weight', type: 'Float', isUnique: true }],
    ['a Decimal (compared as a double on MySQL)', { name: 'amount', type: 'Decimal', isUnique: true }],
    ['a DateTime (read to the millisecond)', { name: 'issuedAt', type: 'DateTime', isUnique: true }],
  ] as [string, FieldInit][])('is never %s: none qualifies, [] is recorded and the generator warns', (_, unique) => {
    const { card: model, warnings } = generate(card([unique]));
    expect(model.rowKeyFields).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('Card: the model has no @id and no unique criterion the hushfield CLI can walk');
    expect(warnings[0]).toContain('give it an @id, or @unique (or @@unique) on required');
  });

  it('draws no warning for a model without encrypted fields (the CLI never walks it)', () => {
    const { card: model, warnings } = generate(card([{ name: 'label', isUnique: true, isRequired: false }], [], false));
    expect(model.rowKeyFields).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
