/**
 * Where `keys rewrap --to-keyring <source>` finds the new keyring: a name in the config's
 * `keyrings`, a named export of the config module, or a file: a module (`.ts`, `.js`, ...)
 * default-exporting a keyring (or a function returning one), else a base64 key file for
 * `LocalKeyring`.
 */
import { existsSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { InvalidArgumentError, LocalKeyring } from '@hushfield/core';
import type { Keyring } from '@hushfield/core';
import type { Lazy, LoadedConfig } from './config';
import { importModule, resolveLazy } from './config';
import { messages } from './messages';

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

function isKeyringLike(value: unknown): value is Lazy<Keyring> {
  if (typeof value === 'function') return true;
  return Boolean(
    value &&
    typeof value === 'object' &&
    typeof (value as Keyring).wrapKey === 'function' &&
    typeof (value as Keyring).unwrapKey === 'function',
  );
}

/**
 * Resolves `source` to a keyring.
 * @throws InvalidArgumentError when nothing by that name or path yields a keyring.
 */
export async function resolveKeyringSource(source: string, loaded: LoadedConfig, cwd: string): Promise<Keyring> {
  const named = loaded.config.keyrings?.[source] ?? (source !== 'default' ? loaded.module[source] : undefined);
  let candidate: unknown = named;
  if (candidate === undefined) {
    const path = isAbsolute(source) ? source : resolve(cwd, source);
    if (!existsSync(path)) throw new InvalidArgumentError(messages.keys.noSuchKeyring(source), 'to-keyring');
    if (!MODULE_EXTENSIONS.has(extname(path))) return LocalKeyring.fromFile(path);
    const module = await importModule(path);
    candidate = module.default ?? module.keyring;
  }
  if (!isKeyringLike(candidate)) throw new InvalidArgumentError(messages.keys.notKeyring(source), 'to-keyring');
  const keyring = await resolveLazy(candidate);
  if (!isKeyringLike(keyring) || typeof keyring === 'function') {
    throw new InvalidArgumentError(messages.keys.noKeyringYielded(source), 'to-keyring');
  }
  return keyring;
}
