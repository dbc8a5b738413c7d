import { InvalidArgumentError } from '@hushfield/core';
import type { ModelMeta } from '../../metadata';
import { canonicalUuid, filteredForm, storedForm } from './canonical-values';

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

/** Columns of eight characters: PostgreSQL's Char, MySQL's, a provider not known, a VarChar; and a uuid. */
const lockerModel = {
  name: 'Locker',
  fields: {
    pg: { name: 'pg', maxLength: 8, fixedLength: 'pads' },
    my: { name: 'my', maxLength: 8, fixedLength: 'trims' },
    unknown: { name: 'unknown', maxLength: 8, fixedLength: 'either' },
    varchar: { name: 'varchar', maxLength: 8 },
    id: { name: 'id', uuid: true },
  },
} as unknown as ModelMeta;

describe('storedForm of a declared-length column', () => {
  const model = lockerModel;
  const refused = (field: string, value: string, why: RegExp) => {
    const attempt = () => storedForm(model, field, value);
    expect(attempt).toThrow(InvalidArgumentError);
    expect(attempt).toThrow(why);
    expect(attempt).toThrow(new RegExp(`Locker\\.${field}`));
    if (value.trim().length > 0) expect(attempt).not.toThrow(value.trim());
  };

  it('passes a value every column returns as written', () => {
    for (const field of ['pg', 'my', 'unknown', 'varchar'])
      expect(storedForm(model, field, 'site-042')).toBe('site-042');
    // eight characters, ten UTF-16 units: the databases count characters
    expect(storedForm(model, 'pg', 'ab😀cde😀f')).toBe('ab😀cde😀f');
    expect(storedForm(model, 'varchar', 'ab😀cde😀f')).toBe('ab😀cde😀f');
  });

  it('refuses a value shorter than a padding Char(n), which PostgreSQL would read back padded', () => {
    refused('pg', 'acme', /pads a value of fewer than 8 characters/);
    refused('unknown', 'acme', /PostgreSQL pads/);
    refused('pg', 'a😀cde😀f', /pads/);
    // the same value in MySQL's Char or a VarChar comes back as written
    expect(storedForm(model, 'my', 'acme')).toBe('acme');
    expect(storedForm(model, 'varchar', 'acme')).toBe('acme');
  });

  it('refuses trailing spaces in a trimming Char(n), which MySQL would read back without them', () => {
    refused('my', 'acme ', /without its trailing spaces/);
    refused('my', 'site-04 ', /trailing spaces/);
    refused('unknown', 'site-04 ', /MySQL and MariaDB return/);
    expect(storedForm(model, 'pg', 'site-04 ')).toBe('site-04 ');
    expect(storedForm(model, 'varchar', 'acme ')).toBe('acme ');
  });

  it('refuses a value longer than the column, which the database refuses or cuts (trailing spaces silently)', () => {
    for (const field of ['pg', 'my', 'unknown', 'varchar']) {
      refused(field, 'site-0420', /more than 8 characters/);
      refused(field, 'site-042  ', /more than 8 characters/);
    }
  });

  it('names the column type in the message', () => {
    expect(() => storedForm(model, 'pg', 'x')).toThrow(/is a Char\(8\) column/);
    expect(() => storedForm(model, 'varchar', 'site-0420')).toThrow(/is a VarChar\(8\) column/);
  });
});

describe('storedForm of a MySQL TEXT-family column', () => {
  const model = {
    name: 'Ticket',
    fields: { tiny: { name: 'tiny', type: 'String', maxBytes: 255 } },
  } as unknown as ModelMeta;

  it('counts bytes of UTF-8, not characters: refuses what TinyText would cut, passes what fits exactly', () => {
    expect(storedForm(model, 'tiny', '€'.repeat(85))).toBe('€'.repeat(85));
    expect(storedForm(model, 'tiny', 'a'.repeat(255))).toBe('a'.repeat(255));
    for (const value of ['€'.repeat(86), 'a'.repeat(256), `${'a'.repeat(254)}é`]) {
      const attempt = () => storedForm(model, 'tiny', value);
      expect(attempt).toThrow(InvalidArgumentError);
      expect(attempt).toThrow(/Ticket\.tiny is a TinyText \(255 bytes\) column.*more than 255 bytes/);
      expect(attempt).not.toThrow(value);
    }
  });
});

describe('filteredForm', () => {
  const model = lockerModel;

  it('gives the form the rows a filter matches hold, refusing nothing a read may ask', () => {
    expect(filteredForm(model, 'pg', 'acme')).toBe('acme    ');
    expect(filteredForm(model, 'pg', 'a😀')).toBe('a😀      ');
    expect(filteredForm(model, 'pg', 'SITE-0001')).toBe('SITE-0001');
    expect(filteredForm(model, 'my', 'acme  ')).toBe('acme');
    expect(filteredForm(model, 'unknown', 'acme ')).toBe('acme ');
    expect(filteredForm(model, 'varchar', 'acme ')).toBe('acme ');
    expect(filteredForm(model, 'id', CANONICAL.toUpperCase())).toBe(CANONICAL);
    expect(() => filteredForm(model, 'id', 'nope')).toThrow(InvalidArgumentError);
  });
});
