import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from './errors';
import { blindIndexVersion, checkSpec, computeBlindIndex, deriveIndexKey, normalize } from './blind-index';

const spec = { model: 'users', field: 'email_idx', name: 'email', normalize: ['trim', 'lowercase'] as const, bits: 256 };

describe('normalize', () => {
  it.each([
    [['lowercase'], 'ÀDA@Example.COM', 'àda@example.com'],
    [['uppercase'], 'ada', 'ADA'],
    [['trim'], ' \t ada \n', 'ada'],
    [['nfkc'], 'ﬁ①', 'fi1'],
    [['nfc'], 'e\u0301', 'é'],
    [['digits'], '+1 (555) 010-9999', '15550109999'],
    [['collapse-whitespace'], 'a  \t b\n\nc', 'a b c'],
    [['trim', 'collapse-whitespace', 'lowercase'], '  Ada   LOVELACE ', 'ada lovelace'],
  ] as const)('%j turns %j into %j', (steps, input, output) => {
    expect(normalize(input, steps)).toBe(output);
  });

  it('refuses an unknown normalizer, naming it', () => {
    expect(() => normalize('x', ['lowercase', 'rot13' as never])).toThrow('normalizers has unknown normalizer "rot13"');
  });
});

describe('blind index', () => {
  const root = randomBytes(32);

  it('is deterministic, applies the normalizers, and embeds the root version', () => {
    const key = deriveIndexKey(root, spec, 4);
    const a = computeBlindIndex(key, spec, 4, ' Ada@Example.com ');
    expect(a).toBe(computeBlindIndex(key, spec, 4, 'ada@example.com'));
    expect(a).toMatch(/^v4\.[A-Za-z0-9_-]{43}$/);
    expect(blindIndexVersion(a)).toBe(4);
    expect(computeBlindIndex(key, spec, 4, 'bob@example.com')).not.toBe(a);
  });

  it('derives a different key per model, field, index name, version and root', () => {
    const base = deriveIndexKey(root, spec, 1);
    const others = [
      deriveIndexKey(root, { ...spec, model: 'admins' }, 1),
      deriveIndexKey(root, { ...spec, field: 'email2_idx' }, 1),
      deriveIndexKey(root, { ...spec, name: 'email2' }, 1),
      deriveIndexKey(root, spec, 2),
      deriveIndexKey(randomBytes(32), spec, 1),
      deriveIndexKey(root, { model: 'usersemail_idx', field: '', name: 'email' } as never, 1),
    ];
    for (const other of others) expect(other.equals(base)).toBe(false);
  });

  it.each([8, 16, 64, 128, 248])('truncates to %i bits', (bits) => {
    const key = deriveIndexKey(root, spec, 1);
    const full = computeBlindIndex(key, spec, 1, 'x').slice(3);
    const short = computeBlindIndex(key, { ...spec, bits }, 1, 'x').slice(3);
    expect(Buffer.from(short, 'base64url')).toEqual(Buffer.from(full, 'base64url').subarray(0, bits / 8));
    expect(blindIndexVersion(`v1.${short}`)).toBe(1);
  });

  it.each([0, 7, 9, 12, 264, 512, 1.5, NaN])('refuses %p bits', (bits) => {
    expect(() => checkSpec({ ...spec, bits })).toThrow(InvalidArgumentError);
    expect(() => checkSpec({ ...spec, bits })).toThrow('spec.bits must be a multiple of 8 from 8 to 256');
  });

  it.each(['', 'plain', 'v.abc', 'v0.AAAA', 'v01.AAAA', 'v1.', 'v1.A', 'v1.AB', `v1.${'A'.repeat(44)}`, 'v1.AAA=', 'V1.AAAA',
    'v2147483648.AAAA'])('reads no version from %j', (value) => {
    expect(blindIndexVersion(value)).toBeNull();
  });
});
