/**
 * Disaster recovery across Regions, with one KMS emulator per Region: MultiKeyring wraps under
 * a key in each and unwraps through whichever answers; a multi-Region key (`mrk-`) lets a
 * keyring in the other Region decrypt what the first Region wrapped.
 */
import { randomBytes } from 'node:crypto';
import { KeyringError, LocalKeyring, type Keyring } from '@hushfield/core';
import { AwsKmsKeyring, MultiKeyring } from '@hushfield/kms-aws';
import { kmsAdmin, startKmsEmulator, type CreatedKey, type KmsEmulator } from './emulator';

const context = { purpose: 'hushfield/scope-key', keyId: 'k-1', scope: 'default', version: '1' };

describe('multi-Region disaster recovery', () => {
  let primary: KmsEmulator;
  let secondary: KmsEmulator;
  let primaryKey: CreatedKey;
  let secondaryKey: CreatedKey;
  const keyrings: AwsKmsKeyring[] = [];

  const keyringIn = (emulator: KmsEmulator, keyId: string): AwsKmsKeyring => {
    const created = new AwsKmsKeyring({
      keyId,
      clientConfig: { endpoint: emulator.endpoint, region: emulator.region, credentials: emulator.credentials },
      retry: { maxAttempts: 2, sleep: async () => undefined },
      timeoutMs: 2_000,
    });
    keyrings.push(created);
    return created;
  };

  beforeAll(async () => {
    primary = await startKmsEmulator({ region: 'eu-west-1' });
    secondary = await startKmsEmulator({ region: 'eu-central-1' });
    primaryKey = await kmsAdmin(primary).createKey();
    secondaryKey = await kmsAdmin(secondary).createKey();
  });
  beforeEach(async () => {
    for (const emulator of [primary, secondary]) {
      await emulator.faults.clear();
      emulator.calls.reset();
    }
  });
  afterAll(async () => {
    for (const created of keyrings) created.destroy();
    await primary.stop();
    await secondary.stop();
  });

  const bothRegions = (options?: ConstructorParameters<typeof MultiKeyring>[1]): MultiKeyring =>
    new MultiKeyring([keyringIn(primary, primaryKey.arn), keyringIn(secondary, secondaryKey.arn)], options);

  it('wraps under every Region and unwraps with the first, one KMS call in all', async () => {
    const multi = bothRegions();
    expect(multi.id).toBe(`multi(aws-kms:${primaryKey.arn},aws-kms:${secondaryKey.arn})`);
    const plaintext = randomBytes(32);
    const wrapped = await multi.wrapKey(plaintext, context);
    expect(primary.calls.get('Encrypt')).toBe(1);
    expect(secondary.calls.get('Encrypt')).toBe(1);
    expect(wrapped.toString('latin1')).toContain(primaryKey.arn);
    expect(wrapped.toString('latin1')).toContain(secondaryKey.arn);
    expect((await multi.unwrapKey(wrapped, context)).equals(plaintext)).toBe(true);
    expect(primary.calls.get('Decrypt')).toBe(1);
    expect(secondary.calls.get('Decrypt')).toBe(0);
  });

  it('unwraps through the second Region while the first is down', async () => {
    const multi = bothRegions();
    const generated = await multi.generateKey(context);
    expect(primary.calls.get('GenerateDataKey')).toBe(1);
    expect(secondary.calls.get('Encrypt')).toBe(1);
    await primary.faults.outage();
    expect((await multi.unwrapKey(generated.wrappedKey, context)).equals(generated.plaintextKey)).toBe(true);
    expect(secondary.calls.get('Decrypt')).toBe(1);
  });

  it('a process in the second Region alone unwraps keys wrapped under both', async () => {
    const wrapped = await bothRegions().wrapKey(randomBytes(32), context);
    const plaintext = await new MultiKeyring([keyringIn(secondary, secondaryKey.arn)]).unwrapKey(wrapped, context);
    expect(plaintext).toHaveLength(32);
    expect(primary.calls.get('Decrypt')).toBe(0);
  });

  it('in parallel mode asks both Regions at once and answers with the first success', async () => {
    const multi = bothRegions({ unwrap: 'parallel' });
    const plaintext = randomBytes(32);
    const wrapped = await multi.wrapKey(plaintext, context);
    primary.faults.latencyMs = 1_500;
    const started = performance.now();
    expect((await multi.unwrapKey(wrapped, context)).equals(plaintext)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(secondary.calls.get('Decrypt')).toBe(1);
  });

  it('fails with a retryable KeyringError naming each Region only when every Region fails', async () => {
    const multi = bothRegions();
    const wrapped = await multi.wrapKey(randomBytes(32), context);
    await primary.faults.outage();
    await secondary.faults.outage();
    const error = await multi.unwrapKey(wrapped, context).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KeyringError);
    expect(error).toMatchObject({ operation: 'unwrap', retryable: true, keyringId: multi.id });
    expect((error as Error).message).toContain(primaryKey.arn);
    expect((error as Error).message).toContain(secondaryKey.arn);
  });

  it('refuses to wrap when any Region fails, so no key lacks its recovery copy', async () => {
    const multi = bothRegions();
    secondary.faults.throttle(10);
    const error = await multi.wrapKey(randomBytes(32), context).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ operation: 'wrap', retryable: true });
    expect((error as Error).message).toContain(`failed to wrap under aws-kms:${secondaryKey.arn}`);
  });

  it('refuses a copy presented under another context in every Region', async () => {
    const multi = bothRegions();
    const wrapped = await multi.wrapKey(randomBytes(32), context);
    const error = await multi.unwrapKey(wrapped, { ...context, scope: 'other' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ operation: 'unwrap', retryable: false });
    expect(primary.calls.get('Decrypt') + secondary.calls.get('Decrypt')).toBe(2);
  });

  it('combines keyrings of different kinds (a KMS key and an offline local escrow key)', async () => {
    const escrow: Keyring = new LocalKeyring(randomBytes(32));
    const multi = new MultiKeyring([keyringIn(primary, primaryKey.arn), escrow]);
    const plaintext = randomBytes(32);
    const wrapped = await multi.wrapKey(plaintext, context);
    await primary.faults.outage();
    expect((await multi.unwrapKey(wrapped, context)).equals(plaintext)).toBe(true);
  });

  it('lets a keyring in the replica Region decrypt what a multi-Region key wrapped in the primary', async () => {
    const mrk = await kmsAdmin(primary).createKey({ multiRegion: true });
    primary.replicateKey(mrk.keyId, secondary);
    const plaintext = randomBytes(32);
    const wrapped = await keyringIn(primary, mrk.arn).wrapKey(plaintext, context);
    await primary.faults.outage();
    const replicaArn = mrk.arn.replace(':eu-west-1:', ':eu-central-1:');
    const replicaKeyring = keyringIn(secondary, replicaArn);
    expect((await replicaKeyring.unwrapKey(wrapped, context)).equals(plaintext)).toBe(true);
    expect(secondary.calls.get('Decrypt')).toBe(1);
  });
});
