/**
 * Secrets on the command line show up in `ps` and shell history, so options that take one
 * (`--from-pfe-key`) also accept `env:NAME` (read the variable) and `file:PATH` (read a file,
 * one secret per line).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '@hushfield/core';
import { messages } from './messages';

/** Expands `env:` / `file:` references; literal values pass through. Never echoes a secret. */
export function expandSecretArgs(values: readonly string[], option: string): string[] {
  return values.flatMap((value) => {
    if (value.startsWith('env:')) {
      const name = value.slice(4);
      const found = process.env[name];
      if (!found) throw new InvalidArgumentError(messages.secretArg.envUnset(option, name), option);
      return found.split(/[\s,]+/).filter(Boolean);
    }
    if (value.startsWith('file:')) {
      try {
        return readFileSync(value.slice(5), 'utf8')
          .split(/\r?\n/)
          .map((line) => line.trim())
          .filter(Boolean);
      } catch {
        throw new InvalidArgumentError(messages.secretArg.fileUnreadable(option, value.slice(5)), option);
      }
    }
    return [value];
  });
}
