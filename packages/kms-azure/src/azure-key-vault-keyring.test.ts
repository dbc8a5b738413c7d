import { InvalidArgumentError } from '@hushfield/core';
import { AzureKeyVaultKeyring } from './azure-key-vault-keyring';

// The keyring's calls are tested through the official SDK against a loopback fake in
// test/keyrings/azure; these cover what must fail before any client is made.
describe('AzureKeyVaultKeyring configuration', () => {
  it.each([null, 42, 'not-options'])(
    'refuses options %p that are not an object with a typed error naming AzureKeyVaultKeyring',
    (options) => {
      const make = () => new AzureKeyVaultKeyring(options as never);
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(new RegExp(`^AzureKeyVaultKeyring: options must be an object, got (null|number|string)$`));
    },
  );
});
