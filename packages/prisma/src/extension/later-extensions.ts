/**
 * What may be added to a client after fieldEncryption. Prisma runs query extensions in the
 * order they were added, each handing its arguments to the next and getting the next one's
 * results: one added after fieldEncryption would send what it adds to a where or a data
 * unrewritten (an encrypted field's plaintext, into its column) and see ciphertext as results.
 * Result, model and client extensions see only what the client returns, so they may follow.
 */
import { ConfigError } from '@hushfield/core';
import type { HushfieldSchema } from '../metadata';

/** Prisma's query-extension keys that reach every model. */
const EVERY_MODEL = ['$allModels', '$allOperations'];

/**
 * The `$extends` of a client extended with fieldEncryption: refuses a query extension that
 * reaches a model of `schema` (by its name, `$allModels` or `$allOperations`) before any query
 * runs, and passes anything else to Prisma's `$extends` (`extend`, called on the same client).
 * An extension given as a function (`Prisma.defineExtension(client => client.$extends(...))`)
 * is called with the client, so the `$extends` it calls is this one.
 * @throws ConfigError naming the order that works
 */
export function guardedExtends(
  schema: HushfieldSchema,
  extend: unknown,
): (this: unknown, extension: unknown) => unknown {
  const models = new Set(Object.keys(schema.models).map(clientName));
  return function $extends(this: unknown, extension: unknown): unknown {
    if (typeof extension === 'function') return (extension as (client: unknown) => unknown)(this);
    const query = (extension as { query?: unknown } | null | undefined)?.query;
    if (query !== null && typeof query === 'object') {
      const reached = Object.keys(query).filter((key) => EVERY_MODEL.includes(key) || models.has(clientName(key)));
      if (reached.length > 0) {
        const name = (extension as { name?: unknown }).name;
        throw new ConfigError(
          `a query extension${typeof name === 'string' ? ` (${name})` : ''} on ${reached.join(', ')} was added after ` +
            'fieldEncryption: it would send what it adds to a where or data unencrypted and see ciphertext as results. ' +
            'Add it before fieldEncryption: base.$extends(yours).$extends(fieldEncryption(...))',
        );
      }
    }
    return (extend as (this: unknown, extension: unknown) => unknown).call(this, extension);
  };
}

/** A model's name as a query extension keys it (`user` for `User`). */
function clientName(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1);
}
