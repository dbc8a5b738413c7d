import { checkVaultUrl, isKeyName, isKeyVersion, parseKeyId } from './key-identifier';

describe('Key Vault names', () => {
  it('accepts vault URLs that are https origins, and nothing else', () => {
    expect(checkVaultUrl('https://contoso.vault.azure.net/').origin).toBe('https://contoso.vault.azure.net');
    expect(checkVaultUrl('https://contoso-hsm.managedhsm.azure.net').origin).toBe(
      'https://contoso-hsm.managedhsm.azure.net',
    );
    for (const bad of [
      'http://contoso.vault.azure.net',
      'https://contoso.vault.azure.net/keys',
      'https://contoso.vault.azure.net?x=1',
      'https://a:b@contoso.vault.azure.net',
      'contoso.vault.azure.net',
      42,
    ]) {
      expect(() => checkVaultUrl(bad)).toThrow(expect.objectContaining({ argument: 'vaultUrl' }));
    }
  });

  it('checks key names and versions character by character', () => {
    expect(isKeyName('hushfield-root-1')).toBe(true);
    for (const bad of ['', 'a/b', 'a b', '..', 'x'.repeat(128), 'é']) expect(isKeyName(bad)).toBe(false);
    expect(isKeyVersion('0123456789abcdef0123456789abcdef')).toBe(true);
    for (const bad of ['', '../x', 'a-b', 'x'.repeat(65)]) expect(isKeyVersion(bad)).toBe(false);
  });

  it('reads name and version from a kid of this vault only', () => {
    const origin = 'https://contoso.vault.azure.net';
    expect(parseKeyId(`${origin}/keys/root/0a1b`, origin)).toEqual({ name: 'root', version: '0a1b' });
    for (const bad of [
      `${origin}/keys/root`,
      `${origin}/keys/root/`,
      `${origin}/secrets/root/0a1b`,
      `https://other.vault.azure.net/keys/root/0a1b`,
      `${origin}/keys/root/0a1b?x=1`,
      `${origin}/keys/root/0a1b/extra`,
      undefined,
    ]) {
      expect(parseKeyId(bad, origin)).toBeUndefined();
    }
  });
});
