import { createHmac, randomBytes } from 'node:crypto';
import { InvalidArgumentError } from './errors';
import {
  blindIndexVersion,
  checkSpec,
  computeBlindIndex,
  deriveIndexKey,
  deriveScopedIndexKey,
  maxBlindIndexLength,
  parseBlindIndex,
  truncateDigest,
} from './blind-index';

const spec = {
  model: 'users',
  field: 'email_idx',
  name: 'email',
  normalize: ['trim@1', 'lowercase@1'] as const,
  bits: 256,
};

describe('blind index', () => {
  const root = randomBytes(32);

  it('is deterministic, applies the normalizers, and embeds the root and normalizer versions', () => {
    const key = deriveIndexKey(root, spec, 4);
    const a = computeBlindIndex(key, spec, 4, ' Ada@Example.com ');
    expect(a).toBe(computeBlindIndex(key, spec, 4, 'ada@example.com'));
    expect(a).toMatch(/^v4\.n1\.[A-Za-z0-9_-]{43}$/);
    expect(blindIndexVersion(a)).toBe(4);
    expect(parseBlindIndex(a)).toEqual({ rootVersion: 4, perScope: false, normalizerVersion: 1, bytes: 32 });
    expect(computeBlindIndex(key, spec, 4, 'bob@example.com')).not.toBe(a);
  });

  it('treats bare normalizer names as version 1', () => {
    const key = deriveIndexKey(root, spec, 1);
    expect(computeBlindIndex(key, { ...spec, normalize: ['trim', 'lowercase'] }, 1, ' X ')).toBe(
      computeBlindIndex(key, spec, 1, ' X '),
    );
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

  it.each([1, 2, 7, 8, 9, 12, 16, 20, 64, 127, 128, 248, 255, 256])(
    "truncates to %i bits, zeroing the last byte's unused low bits",
    (bits) => {
      const key = deriveIndexKey(root, spec, 1);
      for (const input of ['x', 'y', 'ada@example.com', '']) {
        const full = createHmac('sha256', key).update(input).digest();
        const value = computeBlindIndex(key, { ...spec, normalize: [], bits }, 1, input);
        const digest = Buffer.from(value.slice('v1.n1.'.length), 'base64url');
        expect(digest).toHaveLength(Math.ceil(bits / 8));
        // Bit i of the digest (most significant first) is bit i of the HMAC for i < bits, else 0.
        for (let i = 0; i < digest.length * 8; i++) {
          const bit = (digest[i >> 3] >> (7 - (i & 7))) & 1;
          expect(bit).toBe(i < bits ? (full[i >> 3] >> (7 - (i & 7))) & 1 : 0);
        }
        expect(parseBlindIndex(value)).toEqual({
          rootVersion: 1,
          perScope: false,
          normalizerVersion: 1,
          bytes: Math.ceil(bits / 8),
        });
        expect(value.length).toBeLessThanOrEqual(maxBlindIndexLength(bits));
      }
    },
  );

  it('gives at most 2^bits distinct values', () => {
    const key = deriveIndexKey(root, spec, 1);
    for (const bits of [1, 3]) {
      const seen = new Set(
        Array.from({ length: 200 }, (_, i) => computeBlindIndex(key, { ...spec, bits }, 1, `v${i}`)),
      );
      expect(seen.size).toBe(2 ** bits);
    }
  });

  it('the longest value has maxBlindIndexLength characters', () => {
    const key = deriveIndexKey(root, spec, 1);
    for (const bits of [1, 12, 256]) {
      const value = computeBlindIndex(key, { ...spec, bits }, 2 ** 31 - 1, 'x').replace('.n1.', '.n999.');
      expect(value).toHaveLength(maxBlindIndexLength(bits));
      expect(parseBlindIndex(value)).toEqual({
        rootVersion: 2 ** 31 - 1,
        perScope: false,
        normalizerVersion: 999,
        bytes: Math.ceil(bits / 8),
      });
    }
  });

  it('truncateDigest keeps the first bits of its input', () => {
    expect(truncateDigest(Buffer.from('ffff', 'hex'), 12).toString('hex')).toBe('fff0');
    expect(truncateDigest(Buffer.from('ffff', 'hex'), 1).toString('hex')).toBe('80');
    expect(truncateDigest(Buffer.from('abcd', 'hex'), 16).toString('hex')).toBe('abcd');
  });

  it.each([0, -1, 257, 264, 512, 1.5, NaN])('refuses %p bits', (bits) => {
    expect(() => checkSpec({ ...spec, bits })).toThrow(InvalidArgumentError);
    expect(() => checkSpec({ ...spec, bits })).toThrow('spec.bits must be an integer from 1 to 256');
  });

  it('refuses an unknown normalizer or version, and a chain mixing versions', () => {
    expect(() => checkSpec({ ...spec, normalize: ['lowercase@2' as never] })).toThrow(
      'spec.normalize has unknown normalizer "lowercase@2"',
    );
    expect(() => checkSpec({ ...spec, normalize: ['rot13' as never] })).toThrow(
      'spec.normalize has unknown normalizer "rot13"',
    );
  });

  it.each([
    '',
    'plain',
    'v.abc',
    'v1.AAAA',
    'v0.n1.AAAA',
    'v01.n1.AAAA',
    'v1.n0.AAAA',
    'v1.n01.AAAA',
    'v1.n1000.AAAA',
    'v1.n.AAAA',
    'v1.x1.AAAA',
    'v1.n1.',
    'v1.n1.A',
    'v1.n1.AB',
    `v1.n1.${'A'.repeat(44)}`,
    'v1.n1.AAA=',
    'V1.n1.AAAA',
    'S1.n1.AAAA',
    'x1.n1.AAAA',
    's0.n1.AAAA',
    's1.n1.',
    'v2147483648.n1.AAAA',
    'v1.n1.AAAA.AAAA',
    'v1.n1.AB+A',
  ])('reads nothing from %j', (value) => {
    expect(parseBlindIndex(value)).toBeNull();
    expect(blindIndexVersion(value)).toBeNull();
  });

  describe('per scope', () => {
    const scopeKey = randomBytes(32);
    const scoped = { ...spec, perScope: true };

    it('is keyed by the scope key version and says so with a leading s', () => {
      const key = deriveScopedIndexKey(scopeKey, scoped, 'KeyId-1', 3);
      const value = computeBlindIndex(key, scoped, 3, ' Ada@Example.com ');
      expect(value).toMatch(/^s3\.n1\.[A-Za-z0-9_-]{43}$/);
      expect(value).toBe(computeBlindIndex(key, scoped, 3, 'ada@example.com'));
      expect(parseBlindIndex(value)).toEqual({ rootVersion: 3, perScope: true, normalizerVersion: 1, bytes: 32 });
      expect(blindIndexVersion(value)).toBe(3);
      expect(value.length).toBeLessThanOrEqual(maxBlindIndexLength(256));
    });

    it('derives a different key per scope key, key id, version, model, field and index name', () => {
      const base = deriveScopedIndexKey(scopeKey, scoped, 'KeyId-1', 1);
      const others = [
        deriveScopedIndexKey(randomBytes(32), scoped, 'KeyId-1', 1),
        deriveScopedIndexKey(scopeKey, scoped, 'KeyId-2', 1),
        deriveScopedIndexKey(scopeKey, scoped, 'KeyId-1', 2),
        deriveScopedIndexKey(scopeKey, { ...scoped, model: 'admins' }, 'KeyId-1', 1),
        deriveScopedIndexKey(scopeKey, { ...scoped, field: 'other' }, 'KeyId-1', 1),
        deriveScopedIndexKey(scopeKey, { ...scoped, name: 'other' }, 'KeyId-1', 1),
      ];
      for (const other of others) expect(other.equals(base)).toBe(false);
    });

    it('never equals the shared key derived from the same bytes (separate salt and label)', () => {
      expect(deriveScopedIndexKey(scopeKey, spec, 'KeyId-1', 1).equals(deriveIndexKey(scopeKey, spec, 1))).toBe(false);
    });

    it('refuses a key of the wrong size, a bad key id or version, and a non-boolean perScope', () => {
      expect(() => deriveScopedIndexKey(randomBytes(16), spec, 'KeyId-1', 1)).toThrow(InvalidArgumentError);
      expect(() => deriveScopedIndexKey(scopeKey, spec, '', 1)).toThrow(InvalidArgumentError);
      expect(() => deriveScopedIndexKey(scopeKey, spec, 'KeyId-1', 0)).toThrow(InvalidArgumentError);
      expect(() => checkSpec({ ...spec, perScope: 'yes' as never })).toThrow('spec.perScope must be a boolean');
    });
  });
});
