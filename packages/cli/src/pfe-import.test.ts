import { inspect } from 'node:util';
import { encryptStringSync, generateKey } from '@47ng/cloak';
import { DecryptionError, InvalidArgumentError } from '@hushfield/core';
import { PfeImporter, isPfeValue } from './pfe-import';

const key = generateKey();
const other = generateKey();

test('recognises cloak values, damaged ones included, and nothing else', () => {
  expect(isPfeValue(encryptStringSync('hello', key))).toBe(true);
  expect(isPfeValue('hello@example.com')).toBe(false);
  // A damaged cloak value must never be taken for plaintext (and encrypted as such).
  expect(isPfeValue('v1.aesgcm256.not-a-value')).toBe(true);
});

test('refuses a damaged cloak value with a typed error', () => {
  const importer = new PfeImporter([key]);
  expect(() => importer.decrypt('v1.aesgcm256.not-a-value', { model: 'Customer', field: 'email' })).toThrow(
    DecryptionError,
  );
});

test('decrypts values made by cloak with any of its keys', () => {
  const importer = new PfeImporter([other, key]);
  expect(importer.decrypt(encryptStringSync('alice@example.com', key), {})).toBe('alice@example.com');
  expect(importer.decrypt(encryptStringSync('', other), {})).toBe('');
});

test('rejects a value whose key it was not given, naming only the fingerprint', () => {
  const value = encryptStringSync('secret', other);
  const importer = new PfeImporter([key]);
  expect(() => importer.decrypt(value, { model: 'Customer', field: 'email' })).toThrow(DecryptionError);
  try {
    importer.decrypt(value, {});
  } catch (error) {
    expect((error as Error).message).not.toContain(value.split('.')[4]);
  }
});

test('rejects a tampered value without echoing it', () => {
  const value = encryptStringSync('secret', key);
  const parts = value.split('.');
  parts[4] = (parts[4][0] === 'A' ? 'B' : 'A') + parts[4].slice(1);
  const tampered = parts.join('.');
  const importer = new PfeImporter([key]);
  expect(() => importer.decrypt(tampered, {})).toThrow('failed to authenticate');
});

test('rejects something that is not a cloak key without echoing it', () => {
  expect(() => new PfeImporter(['hunter2-not-a-key'])).toThrow(InvalidArgumentError);
  try {
    new PfeImporter(['hunter2-not-a-key']);
  } catch (error) {
    expect((error as Error).message).not.toContain('hunter2');
  }
  expect(() => new PfeImporter([])).toThrow(InvalidArgumentError);
});

test('prints no key under inspect or JSON', () => {
  const importer = new PfeImporter([key]);
  const secret = key.split('.')[2];
  expect(inspect(importer, { depth: 10, showHidden: true })).not.toContain(secret);
  expect(JSON.stringify(importer)).not.toContain(secret);
  expect(JSON.stringify(importer)).toBe('{"keys":1}');
});

test('names its keys by the fingerprints cloak writes into each value, sorted and once each', () => {
  const fingerprintOf = (k: string) => encryptStringSync('x', k).split('.')[2];
  const importer = new PfeImporter([other, key, other]);
  expect(importer.fingerprints).toEqual([fingerprintOf(key), fingerprintOf(other)].sort());
  expect(new PfeImporter([key, other]).fingerprints).toEqual(importer.fingerprints);
  expect(importer.fingerprints.join()).not.toContain(key.slice('k1.aesgcm256.'.length, 20));
});
