/**
 * The AwsKmsKeyring contract against a real KMS protocol endpoint: the loopback emulator
 * always, and LocalStack where a container runtime answers. The keyring uses the real
 * `@aws-sdk/client-kms`; keys are administered over the same protocol.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { KeyringError } from '@hushfield/core';
import { AwsKmsKeyring, type AwsKmsKeyringOptions } from '@hushfield/kms-aws';
import {
  containerRuntimeLikely,
  kmsAdmin,
  startKmsEmulator,
  startLocalStackKms,
  type KmsAdmin,
  type KmsEmulator,
  type LocalStackKms,
} from './emulator';

interface Target {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly emulator?: KmsEmulator;
  stop(): Promise<void>;
}

const targets: [string, boolean, () => Promise<Target>][] = [
  [
    'the KMS emulator',
    true,
    async () => {
      const emulator = await startKmsEmulator();
      return { ...emulator, emulator, stop: () => emulator.stop() };
    },
  ],
  [
    'LocalStack',
    containerRuntimeLikely(),
    async () => {
      const localstack = (await startLocalStackKms()) as LocalStackKms;
      if (localstack === null) throw new Error('a container runtime was detected but LocalStack did not start');
      return localstack;
    },
  ],
];
if (!targets[1][1]) {
  process.stdout.write(
    'hushfield tests: no container runtime detected; the keyring suite runs on the KMS emulator only (LocalStack skipped).\n',
  );
}

const context = { purpose: 'hushfield/scope-key', keyId: 'k-1', scope: 'tenant-a', version: '1' };

/** The hex and base64 spellings of a secret, for "never printed" assertions. */
function spellings(secret: Buffer): string[] {
  return [secret.toString('hex'), secret.toString('base64'), secret.toString('base64url')];
}

describe.each(targets)('AwsKmsKeyring against %s', (_name, available, start) => {
  const suite = available ? describe : describe.skip;
  suite('keyring contract', () => {
    let target: Target;
    let admin: KmsAdmin;
    const keyrings: AwsKmsKeyring[] = [];

    const keyring = (keyId: string, options: Partial<AwsKmsKeyringOptions> = {}): AwsKmsKeyring => {
      const created = new AwsKmsKeyring({
        keyId,
        clientConfig: { endpoint: target.endpoint, region: target.region, credentials: target.credentials },
        retry: { maxAttempts: 1 },
        timeoutMs: 10_000,
        ...options,
      });
      keyrings.push(created);
      return created;
    };

    const refusal = async (promise: Promise<unknown>): Promise<KeyringError> => {
      const error = await promise.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(KeyringError);
      return error as KeyringError;
    };

    beforeAll(async () => {
      target = await start();
      admin = kmsAdmin(target);
    }, 180_000);
    afterAll(async () => {
      for (const created of keyrings) created.destroy();
      await target?.stop();
    });

    it('wraps with Encrypt and unwraps with Decrypt under the same context', async () => {
      const key = await admin.createKey();
      const ring = keyring(key.arn);
      const plaintext = randomBytes(32);
      const wrapped = await ring.wrapKey(plaintext, context);
      expect(wrapped.includes(plaintext)).toBe(false);
      expect(wrapped.toString('latin1')).toContain(key.arn);
      const unwrapped = await ring.unwrapKey(wrapped, context);
      expect(unwrapped.equals(plaintext)).toBe(true);
      expect(unwrapped).not.toBe(plaintext);
    });

    it('generates a 256-bit key inside KMS that unwraps to the same bytes', async () => {
      const key = await admin.createKey();
      const ring = keyring(key.arn);
      const generated = await ring.generateKey(context);
      expect(generated.plaintextKey).toHaveLength(32);
      expect(generated.wrappedKey.includes(generated.plaintextKey)).toBe(false);
      expect((await ring.unwrapKey(generated.wrappedKey, context)).equals(generated.plaintextKey)).toBe(true);
      const again = await ring.generateKey(context);
      expect(again.plaintextKey.equals(generated.plaintextKey)).toBe(false);
    });

    it('refuses to unwrap under another encryption context, with a typed error that leaks nothing', async () => {
      const key = await admin.createKey();
      const ring = keyring(key.arn);
      const plaintext = randomBytes(32);
      const wrapped = await ring.wrapKey(plaintext, context);
      for (const other of [
        { ...context, scope: 'tenant-b' },
        { ...context, version: '2' },
        { purpose: context.purpose },
      ]) {
        const error = await refusal(ring.unwrapKey(wrapped, other));
        expect(error).toMatchObject({
          code: 'HUSHFIELD_KEYRING',
          operation: 'unwrap',
          retryable: false,
          keyringId: ring.id,
        });
        expect(error.message).toContain('InvalidCiphertextException');
        expect(error.message).toContain(key.arn);
        for (const secret of [...spellings(plaintext), ...spellings(wrapped)])
          expect(error.message).not.toContain(secret);
      }
    });

    it('refuses wrapped bytes that were tampered with', async () => {
      const key = await admin.createKey();
      const ring = keyring(key.arn);
      const wrapped = await ring.wrapKey(randomBytes(32), context);
      const flipped = Buffer.from(wrapped);
      flipped[flipped.length - 1] ^= 0x01;
      expect((await refusal(ring.unwrapKey(flipped, context))).message).toContain('InvalidCiphertextException');
      const truncated = wrapped.subarray(0, wrapped.length - 1);
      expect((await refusal(ring.unwrapKey(truncated, context))).message).toContain('malformed (truncated ciphertext)');
      const trailing = Buffer.concat([wrapped, Buffer.from([0])]);
      expect((await refusal(ring.unwrapKey(trailing, context))).message).toContain('malformed (trailing bytes)');
    });

    it('surfaces a disabled key as a typed error naming the key and operation, and recovers when enabled', async () => {
      const key = await admin.createKey();
      const ring = keyring(key.arn);
      const plaintext = randomBytes(32);
      const wrapped = await ring.wrapKey(plaintext, context);
      await admin.disableKey(key.keyId);
      const wrapError = await refusal(ring.wrapKey(plaintext, context));
      expect(wrapError).toMatchObject({ operation: 'wrap', retryable: false });
      expect(wrapError.message).toContain(key.arn);
      expect(wrapError.message).toContain('DisabledException');
      const unwrapError = await refusal(ring.unwrapKey(wrapped, context));
      expect(unwrapError).toMatchObject({ operation: 'unwrap', retryable: false });
      expect(unwrapError.message).toMatch(/Decrypt with key .*\(DisabledException\)/);
      expect((await refusal(ring.generateKey(context))).operation).toBe('generate');
      await admin.enableKey(key.keyId);
      expect((await ring.unwrapKey(wrapped, context)).equals(plaintext)).toBe(true);
    });

    it('surfaces a key scheduled for deletion as a typed KMSInvalidStateException error', async () => {
      const key = await admin.createKey();
      const ring = keyring(key.arn);
      const wrapped = await ring.wrapKey(randomBytes(32), context);
      await admin.scheduleKeyDeletion(key.keyId, 7);
      const unwrapError = await refusal(ring.unwrapKey(wrapped, context));
      expect(unwrapError).toMatchObject({ operation: 'unwrap', retryable: false });
      expect(unwrapError.message).toContain('KMSInvalidStateException');
      expect(unwrapError.message).toContain(key.arn);
      expect((await refusal(ring.wrapKey(randomBytes(32), context))).message).toContain('KMSInvalidStateException');
    });

    it('keeps keys wrapped before a KMS key rotation readable after it', async () => {
      const key = await admin.createKey();
      await admin.enableKeyRotation(key.keyId);
      const ring = keyring(key.arn);
      const before = randomBytes(32);
      const wrappedBefore = await ring.wrapKey(before, context);
      await admin.rotateKeyOnDemand(key.keyId);
      const after = randomBytes(32);
      const wrappedAfter = await ring.wrapKey(after, context);
      expect((await ring.unwrapKey(wrappedBefore, context)).equals(before)).toBe(true);
      expect((await ring.unwrapKey(wrappedAfter, context)).equals(after)).toBe(true);
    });

    it('stores the resolved key ARN, so keys wrapped through an alias still unwrap after the alias moves', async () => {
      const first = await admin.createKey();
      const second = await admin.createKey();
      const alias = `alias/hushfield-${randomBytes(4).toString('hex')}`;
      await admin.createAlias(alias, first.keyId);
      const ring = keyring(alias);
      expect(ring.id).toBe(`aws-kms:${alias}`);
      const oldKey = randomBytes(32);
      const oldWrapped = await ring.wrapKey(oldKey, context);
      await admin.updateAlias(alias, second.keyId);
      const newKey = randomBytes(32);
      const newWrapped = await ring.wrapKey(newKey, context);
      expect(oldWrapped.toString('latin1')).toContain(first.arn);
      expect(newWrapped.toString('latin1')).toContain(second.arn);
      expect((await ring.unwrapKey(oldWrapped, context)).equals(oldKey)).toBe(true);
      expect((await ring.unwrapKey(newWrapped, context)).equals(newKey)).toBe(true);
      // A fresh process configured with the alias learns the trusted account from DescribeKey.
      const describes = target.emulator?.calls.get('DescribeKey');
      expect((await keyring(alias).unwrapKey(oldWrapped, context)).equals(oldKey)).toBe(true);
      if (describes !== undefined) expect(target.emulator?.calls.get('DescribeKey')).toBe(describes + 1);
    });

    it('accepts a key id, an alias ARN and a multi-Region key ARN', async () => {
      const key = await admin.createKey();
      const alias = `alias/hushfield-${randomBytes(4).toString('hex')}`;
      await admin.createAlias(alias, key.keyId);
      const aliasArn = key.arn.replace(`key/${key.keyId}`, alias);
      const mrk = await admin.createKey({ multiRegion: true });
      expect(mrk.keyId.startsWith('mrk-')).toBe(true);
      for (const keyId of [key.keyId, aliasArn, mrk.arn]) {
        const ring = keyring(keyId);
        const plaintext = randomBytes(32);
        expect((await ring.unwrapKey(await ring.wrapKey(plaintext, context), context)).equals(plaintext)).toBe(true);
      }
    });

    it('describes the configured key and its state, following an alias to its current key', async () => {
      const key = await admin.createKey();
      const alias = `alias/hushfield-${randomBytes(4).toString('hex')}`;
      await admin.createAlias(alias, key.keyId);
      const ring = keyring(alias);
      expect(await ring.describeKey()).toEqual({
        keyArn: key.arn,
        accountId: key.arn.split(':')[4],
        region: target.region,
        keyState: 'Enabled',
        enabled: true,
        multiRegion: false,
      });
      await admin.disableKey(key.keyId);
      expect(await ring.describeKey()).toMatchObject({ keyState: 'Disabled', enabled: false });
    });

    it('names a missing key in a typed error', async () => {
      const key = await admin.createKey();
      const missing = key.arn.replace(key.keyId, '00000000-0000-0000-0000-000000000000');
      const error = await refusal(keyring(missing).wrapKey(randomBytes(32), context));
      expect(error).toMatchObject({ operation: 'wrap', retryable: false });
      expect(error.message).toContain('NotFoundException');
      expect(error.message).toContain(missing);
    });

    it('refuses, without calling KMS, a wrapped key that names a key in an untrusted account', async () => {
      const key = await admin.createKey();
      const ring = keyring(key.arn);
      const wrapped = await ring.wrapKey(randomBytes(32), context);
      const account = key.arn.split(':')[4];
      const foreign = Buffer.from(wrapped.toString('latin1').replace(`:${account}:`, ':999999999999:'), 'latin1');
      const decryptsBefore = target.emulator?.calls.get('Decrypt');
      const error = await refusal(ring.unwrapKey(foreign, context));
      expect(error.message).toContain('outside the trusted accounts');
      expect(target.emulator?.calls.get('Decrypt')).toBe(decryptsBefore);
    });

    it('prints no client, credentials or key under inspect and JSON.stringify', async () => {
      const key = await admin.createKey();
      const canary = `canary-${randomBytes(8).toString('hex')}`;
      const ring = keyring(key.arn, {
        clientConfig: {
          endpoint: target.endpoint,
          region: target.region,
          credentials: { accessKeyId: 'AKIDCANARY', secretAccessKey: canary },
        },
      });
      const plaintext = randomBytes(32);
      expect((await ring.unwrapKey(await ring.wrapKey(plaintext, context), context)).equals(plaintext)).toBe(true);
      const printed = `${inspect(ring, { depth: 8, showHidden: true })} ${JSON.stringify(ring)}`;
      expect(printed).toContain(key.arn);
      expect(printed).not.toContain(canary);
      for (const secret of spellings(plaintext)) expect(printed).not.toContain(secret);
    });
  });
});
