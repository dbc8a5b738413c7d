/**
 * The pinned normalizers against their published vectors (test/vectors/hushfield-normalizers.json,
 * see test/vectors/README.md), and the Unicode-version guard.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, InvalidArgumentError } from './errors';
import { FieldCrypto } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';
import {
  isNormalizer,
  normalize,
  normalizerVersion,
  NORMALIZERS,
  PINNED_UNICODE_VERSION,
  runtimeUnicodeVersion,
  unicodeMismatches,
  versionedName,
  type Normalizer,
} from './normalizers';

interface Case {
  input: string;
  inputCodePoints: string;
  output: string;
  comment: string;
}
interface Change extends Case {
  normalizer: Normalizer;
  unicode14: string;
  changedIn: string;
}
const vectors = JSON.parse(
  readFileSync(join(__dirname, '../../../test/vectors/hushfield-normalizers.json'), 'utf8'),
) as {
  pinnedUnicode: string;
  normalizers: Record<string, { unicode: string | null; tests: Case[] }>;
  unicodeChanges: Change[];
};

// Unicode-dependent vectors hold only on a runtime with the pinned Unicode data; elsewhere the
// guard below is what protects the index, and these are skipped.
const pinnedRuntime = runtimeUnicodeVersion() === PINNED_UNICODE_VERSION;

describe('pinned normalizers', () => {
  it('the vectors cover every normalizer, pinned to the same Unicode version as the code', () => {
    expect(Object.keys(vectors.normalizers).sort()).toEqual([...NORMALIZERS].sort());
    expect(vectors.pinnedUnicode).toBe(PINNED_UNICODE_VERSION);
    for (const name of NORMALIZERS) {
      expect(vectors.normalizers[name].unicode !== null).toBe(unicodeMismatches([name], 'other').length > 0);
    }
  });

  const runtimeFree = Object.entries(vectors.normalizers)
    .filter(([, v]) => v.unicode === null)
    .flatMap(([name, v]) => v.tests.map((t) => ({ name, ...t })));
  const unicodeBound = Object.entries(vectors.normalizers)
    .filter(([, v]) => v.unicode !== null)
    .flatMap(([name, v]) => v.tests.map((t) => ({ name, ...t })));

  it.each(runtimeFree)('$name: $inputCodePoints ($comment)', ({ name, input, output }) => {
    expect(normalize(input, [name as Normalizer])).toBe(output);
  });

  (pinnedRuntime ? it.each(unicodeBound) : it.skip.each(unicodeBound))(
    '$name: $inputCodePoints ($comment)',
    ({ name, input, output }) => {
      expect(normalize(input, [name as Normalizer])).toBe(output);
    },
  );

  (pinnedRuntime ? it.each(vectors.unicodeChanges) : it.skip.each(vectors.unicodeChanges))(
    '$normalizer: $inputCodePoints changed in Unicode $changedIn ($comment)',
    ({ normalizer, input, output, unicode14 }) => {
      expect(normalize(input, [normalizer])).toBe(output);
      expect(output).not.toBe(unicode14);
    },
  );

  it("trim@1 and collapse-whitespace@1 use exactly the white space of this runtime's \\s when it has the pinned Unicode data", () => {
    const pinned: number[] = [];
    const runtime: number[] = [];
    for (let code = 0; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const char = String.fromCodePoint(code);
      if (normalize(`a${char}b`, ['collapse-whitespace@1']) === 'a b') pinned.push(code);
      if (/\s/u.test(char)) runtime.push(code);
    }
    expect(pinned.map((c) => c.toString(16))).toEqual([
      '9',
      'a',
      'b',
      'c',
      'd',
      '20',
      'a0',
      '1680',
      '2000',
      '2001',
      '2002',
      '2003',
      '2004',
      '2005',
      '2006',
      '2007',
      '2008',
      '2009',
      '200a',
      '2028',
      '2029',
      '202f',
      '205f',
      '3000',
      'feff',
    ]);
    if (pinnedRuntime) expect(runtime).toEqual(pinned);
    for (const code of pinned)
      expect(normalize(`${String.fromCharCode(code)}a${String.fromCharCode(code)}`, ['trim@1'])).toBe('a');
  });

  it('applies a chain in order', () => {
    expect(normalize('  Ada   LOVELACE ', ['trim@1', 'collapse-whitespace@1', 'lowercase@1'])).toBe('ada lovelace');
    expect(normalize('ﬁ', ['uppercase@1', 'nfkc@1'])).toBe('FI');
  });

  it('bare names are version 1', () => {
    for (const name of NORMALIZERS) {
      const bare = name.slice(0, -2);
      expect(versionedName(bare)).toBe(name);
      expect(isNormalizer(bare) && isNormalizer(name)).toBe(true);
      expect(normalize(' ÀB ①', [bare as Normalizer])).toBe(normalize(' ÀB ①', [name]));
    }
    expect(normalizerVersion([])).toBe(1);
    expect(normalizerVersion(['trim', 'lowercase@1'])).toBe(1);
  });

  it('refuses an unknown normalizer or version, naming it', () => {
    expect(() => normalize('x', ['lowercase', 'rot13' as never])).toThrow(InvalidArgumentError);
    expect(() => normalize('x', ['lowercase', 'rot13' as never])).toThrow('normalizers has unknown normalizer "rot13"');
    expect(() => normalize('x', ['lowercase@2' as never])).toThrow('normalizers has unknown normalizer "lowercase@2"');
    expect(isNormalizer('lowercase@01')).toBe(false);
  });

  it('names the normalizers a runtime with other Unicode data cannot compute as pinned', () => {
    expect(unicodeMismatches(['trim@1', 'lowercase@1', 'digits', 'nfkc'], '16.0')).toEqual([
      { normalizer: 'lowercase@1', pinned: PINNED_UNICODE_VERSION, runtime: '16.0' },
      { normalizer: 'nfkc@1', pinned: PINNED_UNICODE_VERSION, runtime: '16.0' },
    ]);
    expect(unicodeMismatches(['trim', 'collapse-whitespace', 'digits'], '15.1')).toEqual([]);
    expect(unicodeMismatches(['lowercase'], PINNED_UNICODE_VERSION)).toEqual([]);
  });
});

describe('FieldCrypto on a runtime with other Unicode data', () => {
  const spec = {
    model: 'users',
    field: 'email',
    name: 'email_idx',
    normalize: ['trim', 'lowercase'] as Normalizer[],
    bits: 256,
  };
  const make = (unicodeMismatch?: 'refuse' | 'warn') =>
    new FieldCrypto({
      keyring: new LocalKeyring(Buffer.alloc(32, 1)),
      keyStore: new MemoryKeyStore(),
      cache: { ttlMs: 60_000 },
      unicodeMismatch,
    });

  // process.versions is read-only but configurable: the runtime's version is swapped for the test.
  const original = Object.getOwnPropertyDescriptor(process.versions, 'unicode')!;
  beforeEach(() => Object.defineProperty(process.versions, 'unicode', { ...original, value: '16.0' }));
  afterEach(() => {
    Object.defineProperty(process.versions, 'unicode', original);
    jest.restoreAllMocks();
  });

  it('refuses by default to index a non-ASCII value with a Unicode-dependent normalizer, naming index, normalizer and versions', async () => {
    const crypto = make();
    await expect(crypto.blindIndex(spec, 'Zoë@example.com')).rejects.toThrow(ConfigError);
    await expect(crypto.blindIndexAll(spec, 'ɤ@example.com')).rejects.toThrow(
      `blind index users.email_idx: normalizer lowercase@1 is pinned to Unicode ${PINNED_UNICODE_VERSION}, but this runtime`,
    );
    expect(() => crypto.cachedBlindIndex(spec, 'ɤ@example.com')).toThrow('has Unicode 16.0');
  });

  it('indexes ASCII values under a mismatch: their case mappings and normal forms never change', async () => {
    const crypto = make();
    const onOtherUnicode = await crypto.blindIndex(spec, ' Ada@Example.com ');
    Object.defineProperty(process.versions, 'unicode', original);
    await expect(crypto.blindIndex(spec, ' Ada@Example.com ')).resolves.toBe(onOtherUnicode);
    await expect(crypto.blindIndex(spec, 'ada@example.com')).resolves.toBe(onOtherUnicode);
  });

  it('computes indexes whose normalizers use no Unicode data', async () => {
    await expect(make().blindIndex({ ...spec, normalize: ['trim', 'digits'] }, ' 12 ')).resolves.toMatch(/^v1\.n1\./);
  });

  it("with unicodeMismatch: 'warn', computes the index and warns once per normalizer, without the value", async () => {
    const emit = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const crypto = make('warn');
    const value = await crypto.blindIndex(spec, 'Secrét@example.com');
    await crypto.blindIndex(spec, 'Öther@example.com');
    expect(value).toMatch(/^v1\.n1\./);
    const ours = emit.mock.calls.filter(
      ([, options]) => (options as { code?: string } | undefined)?.code === 'HUSHFIELD_UNICODE',
    );
    expect(ours).toHaveLength(1);
    expect(String(ours[0][0])).toContain('lowercase@1');
    expect(String(ours[0][0])).not.toMatch(/secr|ther/i);
  });

  it('refuses an unknown policy', () => {
    expect(() => make('ignore' as never)).toThrow("options.unicodeMismatch must be 'refuse' or 'warn'");
  });
});
