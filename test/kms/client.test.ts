/**
 * AwsKmsKeyring with a KMSClient the application built itself, and what happens to the
 * plaintext the SDK hands back: the keyring copies it into its own Buffer and zeroes the SDK's.
 * A middleware on the real client observes the SDK's output objects (nothing is mocked).
 */
import { randomBytes } from 'node:crypto';
// The SDK is a dependency of @hushfield/kms-aws only; tests reach it through that package.
import { KMSClient } from '../../packages/kms-aws/node_modules/@aws-sdk/client-kms';
import { AwsKmsKeyring } from '@hushfield/kms-aws';
import { kmsAdmin, startKmsEmulator, type CreatedKey, type KmsEmulator } from './emulator';

const context = { purpose: 'hushfield/index-key', keyId: 'idx', scope: 'default', version: '1' };

describe('AwsKmsKeyring with an injected KMS client', () => {
  let emulator: KmsEmulator;
  let key: CreatedKey;
  let client: KMSClient;
  let outputs: { Plaintext?: Uint8Array }[];

  beforeAll(async () => {
    emulator = await startKmsEmulator();
    key = await kmsAdmin(emulator).createKey();
    client = new KMSClient({
      endpoint: emulator.endpoint,
      region: emulator.region,
      credentials: emulator.credentials,
      maxAttempts: 1,
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        outputs.push(result.output as { Plaintext?: Uint8Array });
        return result;
      },
      { step: 'initialize', name: 'observeOutput' },
    );
  });
  beforeEach(() => {
    outputs = [];
  });
  afterAll(async () => {
    client.destroy();
    await emulator.stop();
  });

  it('zeroes the SDK plaintext of GenerateDataKey after copying it into a Buffer it owns', async () => {
    const keyring = new AwsKmsKeyring({ keyId: key.arn, client });
    const generated = await keyring.generateKey(context);
    expect(outputs).toHaveLength(1);
    const sdkPlaintext = outputs[0].Plaintext as Uint8Array;
    expect(sdkPlaintext).toHaveLength(32);
    expect(sdkPlaintext.every((byte) => byte === 0)).toBe(true);
    expect(generated.plaintextKey.some((byte) => byte !== 0)).toBe(true);
    expect(generated.plaintextKey.buffer).not.toBe(sdkPlaintext.buffer);
  });

  it('zeroes the SDK plaintext of Decrypt and returns an independent copy', async () => {
    const keyring = new AwsKmsKeyring({ keyId: key.arn, client });
    const plaintext = randomBytes(32);
    const wrapped = await keyring.wrapKey(plaintext, context);
    outputs = [];
    const unwrapped = await keyring.unwrapKey(wrapped, context);
    const sdkPlaintext = outputs[0].Plaintext as Uint8Array;
    expect(sdkPlaintext.every((byte) => byte === 0)).toBe(true);
    expect(unwrapped.equals(plaintext)).toBe(true);
    expect(unwrapped.byteLength).toBe(unwrapped.buffer.byteLength); // not a view into a shared pool
  });

  it('leaves an injected client open on destroy()', async () => {
    const keyring = new AwsKmsKeyring({ keyId: key.arn, client });
    keyring.destroy();
    await expect(keyring.wrapKey(randomBytes(32), context)).resolves.toBeInstanceOf(Buffer);
  });
});
