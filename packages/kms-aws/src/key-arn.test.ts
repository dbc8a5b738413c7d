import { arnForRegion, parseKmsArn } from './key-arn';

describe('KMS ARNs', () => {
  it('parses key and alias ARNs and nothing else', () => {
    expect(parseKmsArn('arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab')).toEqual({
      partition: 'aws',
      region: 'eu-west-1',
      accountId: '111122223333',
      resourceType: 'key',
      resourceId: '1234abcd-12ab',
    });
    expect(parseKmsArn('arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/app')).toMatchObject({
      resourceType: 'alias',
      resourceId: 'app',
    });
    for (const other of [
      'alias/app',
      '1234abcd-12ab',
      'arn:aws:s3:::bucket',
      'arn:aws:kms:eu-west-1:1111:key/x',
      'arn:aws:kms:eu-west-1:111122223333:grant/x',
      'arn:aws:kms:eu-west-1:111122223333:key/',
      'arn:aws:kms:eu-west-1:111122223333:key/a"b',
      'arn:aws:kms:eu-west-1:111122223333:alias/a:b',
    ]) {
      expect(parseKmsArn(other)).toBeNull();
    }
  });

  it('moves a multi-Region key ARN to the client Region and leaves other keys alone', () => {
    const mrk = 'arn:aws:kms:eu-west-1:111122223333:key/mrk-0123456789abcdef';
    expect(arnForRegion(mrk, 'eu-central-1')).toBe('arn:aws:kms:eu-central-1:111122223333:key/mrk-0123456789abcdef');
    expect(arnForRegion(mrk, 'eu-west-1')).toBe(mrk);
    expect(arnForRegion(mrk, '')).toBe(mrk);
    const single = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd';
    expect(arnForRegion(single, 'eu-central-1')).toBe(single);
  });
});
