import { randomBytes } from 'node:crypto';
import {
  InvalidArgumentError,
  KeyringError,
  LocalKeyring,
  type EncryptionContext,
  type Keyring,
} from '@hushfield/core';
import { MultiKeyring } from './multi-keyring';
import { decodeWrappedCopies, encodeWrappedCopies } from './multi-keyring-format';

const context = { purpose: 'hushfield/scope-key', keyId: 'k', scope: 'default', version: '1' };

/** A keyring without generateKey (wrapping delegated to a local key). */
function wrapOnly(inner: LocalKeyring): Keyring {
  return {
    id: `wrap-only:${inner.id}`,
    wrapKey: (k, c) => inner.wrapKey(k, c),
    unwrapKey: (w, c: EncryptionContext) => inner.unwrapKey(w, c),
  };
}

describe('MultiKeyring', () => {
  it.each([null, 42, 'not-options'])(
    'refuses options %p that are not an object with a typed error naming MultiKeyring',
    (options) => {
      const make = () => new MultiKeyring([new LocalKeyring(randomBytes(32))], options as never);
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(
        new RegExp(`^MultiKeyring: options must be an object \\(or left out\\), got (null|number|string)$`),
      );
    },
  );

  it('refuses no members, duplicate ids and unknown strategies', () => {
    const local = new LocalKeyring(randomBytes(32));
    expect(() => new MultiKeyring([])).toThrow(InvalidArgumentError);
    expect(() => new MultiKeyring([local, local])).toThrow('keyrings must have distinct ids');
    expect(() => new MultiKeyring([local], { unwrap: 'random' as never })).toThrow(InvalidArgumentError);
  });

  const local = new LocalKeyring(randomBytes(32));
  it.each([
    ['an undefined member', undefined],
    ['a member without an id', { wrapKey: local.wrapKey.bind(local), unwrapKey: local.unwrapKey.bind(local) }],
    ['a member with an empty id', { ...wrapOnly(local), id: '' }],
    ['a member without unwrapKey', { id: 'no-unwrap', wrapKey: local.wrapKey.bind(local) }],
    ['a member id over 512 bytes', new LocalKeyring(randomBytes(32), { id: 'x'.repeat(513) })],
    ['a member id over 512 UTF-8 bytes', new LocalKeyring(randomBytes(32), { id: 'é'.repeat(257) })],
  ])('refuses at construction %s (not a failure at the first wrap)', (_name, member) => {
    expect(() => new MultiKeyring([local, member as Keyring])).toThrow(InvalidArgumentError);
  });

  it('accepts a member id of 512 bytes, the most the stored format holds', async () => {
    const multi = new MultiKeyring([new LocalKeyring(randomBytes(32), { id: 'x'.repeat(512) })]);
    const key = randomBytes(32);
    expect((await multi.unwrapKey(await multi.wrapKey(key, context), context)).equals(key)).toBe(true);
  });

  it('labels each copy with the member that made it, and each member unwraps its own copy', async () => {
    const a = new LocalKeyring(randomBytes(32), { id: 'local:a' });
    const b = new LocalKeyring(randomBytes(32), { id: 'local:b' });
    const plaintext = randomBytes(32);
    const wrapped = await new MultiKeyring([a, b]).wrapKey(plaintext, context);
    const parsed = decodeWrappedCopies(wrapped);
    expect(parsed.ok && parsed.copies.map((copy) => copy.keyringId)).toEqual(['local:a', 'local:b']);
    expect((await new MultiKeyring([b]).unwrapKey(wrapped, context)).equals(plaintext)).toBe(true);
    expect((await new MultiKeyring([a]).unwrapKey(wrapped, context)).equals(plaintext)).toBe(true);
  });

  it('generates with a random key when the first member cannot generate', async () => {
    const multi = new MultiKeyring([wrapOnly(new LocalKeyring(randomBytes(32)))]);
    const generated = await multi.generateKey(context);
    expect(generated.plaintextKey).toHaveLength(32);
    expect((await multi.unwrapKey(generated.wrappedKey, context)).equals(generated.plaintextKey)).toBe(true);
  });

  it('refuses malformed bytes and copies no member made', async () => {
    const multi = new MultiKeyring([new LocalKeyring(randomBytes(32), { id: 'local:a' })]);
    await expect(multi.unwrapKey(Buffer.from('nonsense'), context)).rejects.toThrow('malformed (bad magic)');
    const foreign = encodeWrappedCopies([{ keyringId: 'local:z', wrappedKey: Buffer.from([1, 2, 3]) }]);
    const error = await multi.unwrapKey(foreign, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyringError);
    expect((error as Error).message).toContain('no configured keyring produced any of the wrapped copies');
  });

  it('falls through a member whose copy was tampered with', async () => {
    const a = new LocalKeyring(randomBytes(32), { id: 'local:a' });
    const b = new LocalKeyring(randomBytes(32), { id: 'local:b' });
    const plaintext = randomBytes(32);
    const parsed = decodeWrappedCopies(await new MultiKeyring([a, b]).wrapKey(plaintext, context));
    if (!parsed.ok) throw new Error(parsed.reason);
    const [copyA, copyB] = parsed.copies;
    copyA.wrappedKey[copyA.wrappedKey.length - 1] ^= 1;
    const tampered = encodeWrappedCopies([copyA, copyB]);
    expect((await new MultiKeyring([a, b]).unwrapKey(tampered, context)).equals(plaintext)).toBe(true);
    await expect(new MultiKeyring([a]).unwrapKey(tampered, context)).rejects.toBeInstanceOf(KeyringError);
  });
});
