import { InvalidArgumentError } from '@hushfield/core';
import { AwsKmsKeyring } from './aws-kms-keyring';

const arn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('AwsKmsKeyring configuration', () => {
  it('is identified by the configured key', () => {
    const keyring = new AwsKmsKeyring({ keyId: arn });
    expect(keyring.id).toBe(`aws-kms:${arn}`);
    expect(JSON.stringify(keyring)).toBe(JSON.stringify({ id: `aws-kms:${arn}`, keyId: arn }));
    keyring.destroy();
  });

  it.each([null, 42, 'not-options'])(
    'refuses options %p that are not an object with a typed error naming AwsKmsKeyring',
    (options) => {
      const make = () => new AwsKmsKeyring(options as never);
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(new RegExp(`^AwsKmsKeyring: options must be an object, got (null|number|string)$`));
    },
  );

  it('names the bad argument', () => {
    expect(() => new AwsKmsKeyring({ keyId: '' })).toThrow(InvalidArgumentError);
    expect(() => new AwsKmsKeyring({ keyId: arn, timeoutMs: 0 })).toThrow(
      'timeoutMs must be an integer from 1 to 300000',
    );
    expect(() => new AwsKmsKeyring({ keyId: arn, retry: { maxAttempts: 0 } })).toThrow('retry.maxAttempts');
    expect(() => new AwsKmsKeyring({ keyId: arn, trustedAccountIds: ['1234'] })).toThrow('trustedAccountIds must be');
    expect(() => new AwsKmsKeyring({ keyId: arn, trustedAccountIds: [] })).toThrow(InvalidArgumentError);
    // a sink without emit() would lose every event with a warning only
    expect(() => new AwsKmsKeyring({ keyId: arn, audit: (() => undefined) as never })).toThrow(
      'audit must be an AuditSink',
    );
    expect(() => new AwsKmsKeyring({ keyId: arn, audit: { emit() {} }, actor: 'ada' as never })).toThrow(
      'actor must be a function',
    );
  });

  it('refuses malformed wrapped bytes and non-string context values before calling KMS', async () => {
    const keyring = new AwsKmsKeyring({
      keyId: arn,
      clientConfig: { endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } },
    });
    await expect(keyring.unwrapKey(Buffer.from('garbage'), { scope: 'a' })).rejects.toMatchObject({
      code: 'HUSHFIELD_KEYRING',
      operation: 'unwrap',
      retryable: false,
    });
    await expect(keyring.wrapKey(Buffer.alloc(32), { version: 1 as never })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(keyring.wrapKey(Buffer.alloc(0), {})).rejects.toThrow(
      'plaintextKey must be a Buffer of 1 to 4096 bytes',
    );
    keyring.destroy();
  });
});
