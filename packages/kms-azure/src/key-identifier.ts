/**
 * Names Key Vault uses: vault URLs, key names, key versions and key identifiers (`kid`,
 * `https://<vault>/keys/<name>/<version>`). Checked by hand, character by character, so that
 * nothing from a wrapped key or a response reaches a URL unchecked.
 */
import { InvalidArgumentError } from '@hushfield/core';

/** Key Vault key names: 1 to 127 letters, digits and dashes. */
export const MAX_KEY_NAME_LENGTH = 127;
/** Key versions are 32 hex digits in practice; this allows up to 64 letters and digits. */
export const MAX_KEY_VERSION_LENGTH = 64;

function isAlphanumeric(char: string): boolean {
  return (char >= '0' && char <= '9') || (char >= 'a' && char <= 'z') || (char >= 'A' && char <= 'Z');
}

/** Whether `name` is a valid Key Vault key name. */
export function isKeyName(name: unknown): name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_KEY_NAME_LENGTH) return false;
  for (const char of name) if (!isAlphanumeric(char) && char !== '-') return false;
  return true;
}

/** Whether `version` looks like a Key Vault key version. */
export function isKeyVersion(version: unknown): version is string {
  if (typeof version !== 'string' || version.length === 0 || version.length > MAX_KEY_VERSION_LENGTH) return false;
  for (const char of version) if (!isAlphanumeric(char)) return false;
  return true;
}

/**
 * The vault's origin (`https://<host>[:port]`) from its URL: HTTPS, no credentials, path,
 * query or fragment.
 * @throws InvalidArgumentError naming `vaultUrl`
 */
export function checkVaultUrl(vaultUrl: unknown): URL {
  const fail = (): never => {
    throw new InvalidArgumentError(
      'vaultUrl must be an https:// URL with no path, e.g. https://my-vault.vault.azure.net',
      'vaultUrl',
    );
  };
  if (typeof vaultUrl !== 'string' || vaultUrl.length > 2048) return fail();
  let url: URL;
  try {
    url = new URL(vaultUrl);
  } catch {
    return fail();
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return fail();
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') return fail();
  return url;
}

/**
 * The name and version of a key identifier the service returned, when it names a key of the
 * vault at `origin`; `undefined` otherwise (another vault, no version, not a key).
 */
export function parseKeyId(kid: unknown, origin: string): { name: string; version: string } | undefined {
  if (typeof kid !== 'string' || kid.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(kid);
  } catch {
    return undefined;
  }
  if (url.origin !== origin || url.search !== '' || url.hash !== '') return undefined;
  const parts = url.pathname.split('/');
  // ['', 'keys', name, version]
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== 'keys') return undefined;
  const [, , name, version] = parts;
  return isKeyName(name) && isKeyVersion(version) ? { name, version } : undefined;
}
