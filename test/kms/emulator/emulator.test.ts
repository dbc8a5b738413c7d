/**
 * The emulator's protocol and fault behaviour, over raw JSON 1.1 requests (the keyring suites
 * cover it through the real AWS SDK).
 */
import { request } from 'node:http';
import { kmsAdmin, KmsAdminError, startKmsEmulator, type KmsAdmin, type KmsEmulator } from './index';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('KMS emulator', () => {
  let kms: KmsEmulator;
  let admin: KmsAdmin;

  const refusal = async (promise: Promise<unknown>): Promise<KmsAdminError> => {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KmsAdminError);
    return error as KmsAdminError;
  };

  beforeAll(async () => {
    kms = await startKmsEmulator({ region: 'eu-west-3', accountId: '444455556666' });
    admin = kmsAdmin(kms);
  });
  beforeEach(async () => {
    await kms.faults.clear();
    kms.calls.reset();
  });
  afterAll(async () => {
    await kms.stop();
  });

  it('answers in the JSON 1.1 shape with ARNs in its Region and account', async () => {
    const key = await admin.createKey({ description: 'd' });
    expect(key.arn).toBe(`arn:aws:kms:eu-west-3:444455556666:key/${key.keyId}`);
    const described = await admin.call('DescribeKey', { KeyId: key.arn });
    expect(described.KeyMetadata).toMatchObject({
      KeyId: key.keyId,
      KeyState: 'Enabled',
      Enabled: true,
      Description: 'd',
      CreationDate: expect.any(Number),
    });
  });

  it('binds the encryption context regardless of key order and refuses any other', async () => {
    const key = await admin.createKey();
    const { CiphertextBlob } = await admin.call('Encrypt', {
      KeyId: key.keyId,
      Plaintext: b64('k'),
      EncryptionContext: { a: '1', b: '2' },
    });
    const ok = await admin.call('Decrypt', { CiphertextBlob, EncryptionContext: { b: '2', a: '1' } });
    expect(ok).toMatchObject({ KeyId: key.arn, Plaintext: b64('k') });
    for (const other of [{ a: '1' }, { a: '1', b: '3' }, { a: '1', b: '2', c: '3' }, undefined]) {
      expect((await refusal(admin.call('Decrypt', { CiphertextBlob, EncryptionContext: other }))).type).toBe(
        'InvalidCiphertextException',
      );
    }
  });

  it('rejects a ciphertext with any byte changed', async () => {
    const key = await admin.createKey();
    const { CiphertextBlob } = await admin.call('Encrypt', { KeyId: key.keyId, Plaintext: b64('key material') });
    const blob = Buffer.from(String(CiphertextBlob), 'base64');
    for (const index of [0, 1, 5, blob.length - 20, blob.length - 1]) {
      const changed = Buffer.from(blob);
      changed[index] ^= 0x01;
      const error = await refusal(admin.call('Decrypt', { CiphertextBlob: changed.toString('base64') }));
      expect(['InvalidCiphertextException', 'NotFoundException']).toContain(error.type);
    }
  });

  it('refuses Decrypt naming another key than the ciphertext was made under', async () => {
    const first = await admin.createKey();
    const second = await admin.createKey();
    const { CiphertextBlob } = await admin.call('Encrypt', { KeyId: first.keyId, Plaintext: b64('x') });
    expect((await refusal(admin.call('Decrypt', { KeyId: second.arn, CiphertextBlob }))).type).toBe(
      'IncorrectKeyException',
    );
  });

  it('re-encrypts under another key and context', async () => {
    const first = await admin.createKey();
    const second = await admin.createKey();
    const { CiphertextBlob } = await admin.call('Encrypt', {
      KeyId: first.keyId,
      Plaintext: b64('moved'),
      EncryptionContext: { s: '1' },
    });
    const moved = await admin.call('ReEncrypt', {
      CiphertextBlob,
      SourceEncryptionContext: { s: '1' },
      DestinationKeyId: second.keyId,
      DestinationEncryptionContext: { s: '2' },
    });
    expect(moved).toMatchObject({ SourceKeyId: first.arn, KeyId: second.arn });
    const back = await admin.call('Decrypt', { CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { s: '2' } });
    expect(back).toMatchObject({ KeyId: second.arn, Plaintext: b64('moved') });
  });

  it('enforces aliases, key states and limits with AWS error types and statuses', async () => {
    const key = await admin.createKey();
    await admin.createAlias('alias/app', key.keyId);
    expect((await refusal(admin.createAlias('alias/app', key.keyId))).type).toBe('AlreadyExistsException');
    expect((await refusal(admin.updateAlias('alias/none', key.keyId))).type).toBe('NotFoundException');
    expect((await refusal(admin.createAlias('alias/aws/reserved', key.keyId))).type).toBe('ValidationException');
    expect(
      (await refusal(admin.call('Encrypt', { KeyId: key.keyId, Plaintext: Buffer.alloc(4097).toString('base64') })))
        .type,
    ).toBe('ValidationException');
    await admin.disableKey('alias/app');
    const disabled = await refusal(admin.call('GenerateDataKey', { KeyId: 'alias/app', KeySpec: 'AES_256' }));
    expect([disabled.type, disabled.status]).toEqual(['DisabledException', 400]);
    await admin.scheduleKeyDeletion(key.keyId);
    expect((await admin.describeKey(key.keyId)).keyState).toBe('PendingDeletion');
    expect((await refusal(admin.enableKey(key.keyId))).type).toBe('KMSInvalidStateException');
    expect((await refusal(admin.describeKey('alias/missing'))).type).toBe('NotFoundException');
    expect((await refusal(admin.call('ListKeys', {}))).type).toBe('UnknownOperationException');
  });

  it('counts calls per operation, faulted ones included, and applies faults only where filtered', async () => {
    const key = await admin.createKey();
    kms.faults.throttle(2, { operations: ['Encrypt'] });
    await admin.describeKey(key.keyId);
    expect((await refusal(admin.call('Encrypt', { KeyId: key.keyId, Plaintext: b64('x') }))).type).toBe(
      'ThrottlingException',
    );
    expect((await refusal(admin.call('Encrypt', { KeyId: key.keyId, Plaintext: b64('x') }))).status).toBe(400);
    await admin.call('Encrypt', { KeyId: key.keyId, Plaintext: b64('x') });
    kms.faults.fail(1, { type: 'KMSInternalException', status: 500 });
    expect((await refusal(admin.describeKey(key.keyId))).status).toBe(500);
    expect(kms.calls.snapshot()).toEqual({ CreateKey: 1, DescribeKey: 2, Encrypt: 3 });
    expect(kms.calls.total).toBe(6);
  });

  it('refuses connections during an outage and serves again on the same endpoint', async () => {
    const key = await admin.createKey();
    await kms.faults.outage();
    expect(kms.faults.down).toBe(true);
    const refused = await new Promise<string>((resolve) => {
      const req = request(kms.endpoint, { method: 'POST' }, () => resolve('answered'));
      req.on('error', (error: NodeJS.ErrnoException) => resolve(String(error.code)));
      req.end();
    });
    expect(refused).toBe('ECONNREFUSED');
    await kms.faults.restore();
    expect((await admin.describeKey(key.keyId)).keyId).toBe(key.keyId);
  });

  it('destroys the connection of a reset call without answering', async () => {
    kms.faults.resetConnections(1);
    const outcome = await new Promise<string>((resolve) => {
      const req = request(
        kms.endpoint,
        {
          method: 'POST',
          headers: { 'x-amz-target': 'TrentService.CreateKey', 'content-type': 'application/x-amz-json-1.1' },
        },
        () => resolve('answered'),
      );
      req.on('error', (error: NodeJS.ErrnoException) => resolve(String(error.code)));
      req.end('{}');
    });
    expect(outcome).toBe('ECONNRESET');
    expect(kms.calls.get('CreateKey')).toBe(1);
  });
});
