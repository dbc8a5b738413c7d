import { InvalidArgumentError } from '@hushfield/core';
import type { ModelMeta } from '../../metadata';
import { canonicalUuid, storedForm } from './canonical-values';

const CANONICAL = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';

describe('canonicalUuid', () => {
  it('gives the lower-case hyphenated form of every input form PostgreSQL accepts', () => {
    for (const form of [
      CANONICAL,
      CANONICAL.toUpperCase(),
      `{${CANONICAL}}`,
      'a0eebc999c0b4ef8bb6d6bb9bd380a11',
      'a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11',
      '{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}',
    ]) {
      expect(canonicalUuid(form)).toBe(CANONICAL);
    }
  });

  it('refuses what PostgreSQL refuses', () => {
    for (const bad of [
      '',
      'not-a-uuid',
      `${CANONICAL}0`,
      CANONICAL.slice(1),
      `{${CANONICAL}`,
      `-${CANONICAL}`,
      `${CANONICAL}-`,
      'a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11',
      'a0eeb-c999c0b4ef8bb6d6bb9bd380a11',
      'g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      ` ${CANONICAL}`,
    ]) {
      expect(canonicalUuid(bad)).toBeUndefined();
    }
  });
});

describe('storedForm', () => {
  const model = {
    name: 'Device',
    fields: { id: { name: 'id', uuid: true }, code: { name: 'code' } },
  } as unknown as ModelMeta;

  it("rewrites a uuid column's value to its canonical form and leaves other columns as written", () => {
    expect(storedForm(model, 'id', CANONICAL.toUpperCase())).toBe(CANONICAL);
    expect(storedForm(model, 'code', 'ABC')).toBe('ABC');
  });

  it('refuses a value a uuid column cannot hold with a typed error naming the field, not the value', () => {
    const attempt = () => storedForm(model, 'id', 'secret-looking-id');
    expect(attempt).toThrow(InvalidArgumentError);
    expect(attempt).toThrow(/Device\.id/);
    expect(attempt).not.toThrow(/secret-looking-id/);
  });
});
