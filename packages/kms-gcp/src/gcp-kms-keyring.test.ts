import { InvalidArgumentError } from '@hushfield/core';
import { GcpKmsKeyring } from './gcp-kms-keyring';

// The keyring's calls are tested through the official client against a loopback fake in
// test/keyrings/gcp; these cover what must fail before any client is made.
describe('GcpKmsKeyring configuration', () => {
  it.each([null, 42, 'not-options'])(
    'refuses options %p that are not an object with a typed error naming GcpKmsKeyring',
    (options) => {
      const make = () => new GcpKmsKeyring(options as never);
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(new RegExp(`^GcpKmsKeyring: options must be an object, got (null|number|string)$`));
    },
  );
});
