import { GcpResponseError } from './gcp-errors';
import { checksum, verifyChecksum, verifyConfirmed } from './integrity';

describe('CRC32C integrity checks', () => {
  const data = Buffer.from('123456789');

  it('computes CRC32C (Castagnoli), not CRC32', () => {
    expect(checksum(data)).toEqual({ value: 0xe3069283 }); // the standard check value
  });

  it('accepts the checksum as the client returns it over REST (string) or gRPC (number or Long)', () => {
    for (const value of ['3808858755', 3808858755, { toString: () => '3808858755' }]) {
      expect(() => verifyChecksum(data, { value }, 'plaintext')).not.toThrow();
    }
  });

  it('refuses a missing, different or malformed checksum', () => {
    for (const returned of [undefined, null, {}, { value: '3808858756' }, { value: '-1' }, { value: '0x1' }]) {
      expect(() => verifyChecksum(data, returned as never, 'plaintext')).toThrow(GcpResponseError);
    }
  });

  it('requires every verified flag to be true', () => {
    expect(() => verifyConfirmed({ a: true, b: true })).not.toThrow();
    expect(() => verifyConfirmed({ a: true, b: false })).toThrow('b is not true');
    expect(() => verifyConfirmed({ a: undefined })).toThrow(GcpResponseError);
  });
});
