/**
 * A keyring made of several keyrings (e.g. KMS keys in two Regions, or two KMS providers):
 * every key is wrapped under all of them, so losing one root key or one Region loses nothing.
 * Keyring-agnostic: it works with any `Keyring`, not only AWS KMS ones.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  checkOptionsObject,
  InvalidArgumentError,
  KeyringError,
  settleAll,
  type EncryptionContext,
  type GeneratedKey,
  type Keyring,
} from '@hushfield/core';
import { messages } from './messages';
import {
  decodeWrappedCopies,
  encodeWrappedCopies,
  MAX_ID_BYTES,
  MAX_MEMBERS,
  type WrappedCopy,
} from './multi-keyring-format';

/** Options of {@link MultiKeyring}. */
export interface MultiKeyringOptions {
  /**
   * How `unwrapKey` picks a member:
   * - `'in-order'` (default): members in the order given, the next one only when the previous
   *   failed. One KMS call when the first member is healthy; a Region outage costs that
   *   member's timeout and retries before falling back.
   * - `'parallel'`: every member that holds a copy at once; the first success wins (the
   *   others' keys are zeroed). Fastest failover, one KMS call per member.
   */
  readonly unwrap?: 'in-order' | 'parallel';
}

function describeError(keyringId: string, error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof KeyringError ? error.message : typeof code === 'string' ? code : 'failed';
  return `${keyringId}: ${message}`;
}

/** A member must be a keyring whose id the stored format can label a copy with. */
function checkMember(member: Keyring, index: number): void {
  const argument = `keyrings[${index}]`;
  if (
    typeof member !== 'object' ||
    member === null ||
    typeof member.wrapKey !== 'function' ||
    typeof member.unwrapKey !== 'function'
  ) {
    throw new InvalidArgumentError(`${argument} must be a keyring (with wrapKey and unwrapKey)`, 'keyrings');
  }
  const id: unknown = member.id;
  if (typeof id !== 'string' || id.length === 0 || Buffer.byteLength(id, 'utf8') > MAX_ID_BYTES) {
    throw new InvalidArgumentError(`${argument}.id must be a string of 1 to ${MAX_ID_BYTES} UTF-8 bytes`, 'keyrings');
  }
}

/**
 * Wraps under every member keyring; unwraps with whichever member succeeds.
 *
 * `wrapKey` and `generateKey` succeed only if every member wraps (a silent missing copy would
 * defeat disaster recovery). `unwrapKey` matches each stored copy to the member whose `id`
 * produced it. Members are identified by `Keyring.id`, so keep ids stable (for AWS: configure
 * key ARNs rather than aliases). To add or replace a member, re-wrap existing keys with core's
 * `KeyHierarchy.rewrap(newMultiKeyring)`.
 *
 * @example
 * ```ts
 * const keyring = new MultiKeyring([
 *   new AwsKmsKeyring({ keyId: 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1234...' }),
 *   new AwsKmsKeyring({ keyId: 'arn:aws:kms:eu-central-1:111122223333:key/mrk-1234...' }),
 * ]);
 * ```
 */
export class MultiKeyring implements Keyring {
  /** `multi(<member id>,<member id>,...)`. */
  readonly id: string;
  readonly #members: readonly Keyring[];
  readonly #strategy: 'in-order' | 'parallel';

  /**
   * @throws InvalidArgumentError without members, with more than 16, with duplicate ids, with
   *   a member that is not a keyring (no `wrapKey`/`unwrapKey`) or whose id is not 1 to 512 UTF-8
   *   bytes, or with `options` that are not an object or an unknown `unwrap`
   */
  constructor(keyrings: readonly Keyring[], options: MultiKeyringOptions = {}) {
    if (!Array.isArray(keyrings) || keyrings.length < 1 || keyrings.length > MAX_MEMBERS) {
      throw new InvalidArgumentError(`keyrings must hold 1 to ${MAX_MEMBERS} keyrings`, 'keyrings');
    }
    keyrings.forEach(checkMember);
    checkOptionsObject(options, 'MultiKeyring');
    const ids = keyrings.map((keyring) => keyring.id);
    if (new Set(ids).size !== ids.length) throw new InvalidArgumentError('keyrings must have distinct ids', 'keyrings');
    if (options.unwrap !== undefined && options.unwrap !== 'in-order' && options.unwrap !== 'parallel') {
      throw new InvalidArgumentError("unwrap must be 'in-order' or 'parallel'", 'unwrap');
    }
    this.#members = [...keyrings];
    this.#strategy = options.unwrap ?? 'in-order';
    this.id = `multi(${ids.join(',')})`;
  }

  /** The member keyrings, in order (for health checks of each: `hushfield doctor`). */
  get members(): readonly Keyring[] {
    return this.#members;
  }

  /**
   * Wraps under every member (concurrently).
   * @throws KeyringError naming the first member that failed
   */
  async wrapKey(plaintextKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    return this.#wrapAll(plaintextKey, context, new Map(), 'wrap');
  }

  /**
   * Generates a 256-bit key with the first member (inside its KMS when it can, else
   * `crypto.randomBytes`) and wraps it under the others.
   * @throws KeyringError naming the member that failed
   */
  async generateKey(context: EncryptionContext): Promise<GeneratedKey> {
    const [first] = this.#members;
    const known = new Map<string, Buffer>();
    let plaintextKey: Buffer;
    if (first.generateKey) {
      const generated = await first.generateKey(context);
      plaintextKey = generated.plaintextKey;
      known.set(first.id, generated.wrappedKey);
    } else {
      plaintextKey = randomBytes(32);
    }
    try {
      return { plaintextKey, wrappedKey: await this.#wrapAll(plaintextKey, context, known, 'generate') };
    } catch (error) {
      plaintextKey.fill(0);
      throw error;
    }
  }

  /**
   * Unwraps with a member that holds a copy, in order or in parallel (see
   * {@link MultiKeyringOptions.unwrap}).
   * @throws KeyringError when the bytes are malformed or no member could unwrap its copy
   *   (`retryable` when any member's failure was)
   */
  async unwrapKey(wrappedKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    const parsed = decodeWrappedCopies(wrappedKey);
    if (!parsed.ok) {
      throw new KeyringError(messages.malformedWrappedKey(this.id, parsed.reason), {
        keyringId: this.id,
        operation: 'unwrap',
      });
    }
    const copies = new Map(parsed.copies.map((copy) => [copy.keyringId, copy.wrappedKey]));
    const candidates = this.#members.filter((member) => copies.has(member.id));
    const attempt = (member: Keyring): Promise<Buffer> => member.unwrapKey(copies.get(member.id) as Buffer, context);
    const failures: { id: string; error: unknown }[] = [];
    if (this.#strategy === 'parallel' && candidates.length > 1) {
      const winner = await this.#race(candidates, attempt, failures);
      if (winner !== undefined) return winner;
    } else {
      for (const member of candidates) {
        try {
          return await attempt(member);
        } catch (error) {
          failures.push({ id: member.id, error });
        }
      }
    }
    throw new KeyringError(
      messages.multiUnwrapFailed(
        this.id,
        failures.map((failure) => describeError(failure.id, failure.error)),
      ),
      {
        keyringId: this.id,
        operation: 'unwrap',
        retryable: failures.some((failure) => (failure.error as KeyringError)?.retryable === true),
      },
    );
  }

  /** Prints member ids only. */
  [inspect.custom](): string {
    return `MultiKeyring { id: ${JSON.stringify(this.id)} }`;
  }

  /** JSON form: ids only. */
  toJSON(): { id: string; members: string[] } {
    return { id: this.id, members: this.#members.map((member) => member.id) };
  }

  async #wrapAll(
    plaintextKey: Buffer,
    context: EncryptionContext,
    known: Map<string, Buffer>,
    operation: 'wrap' | 'generate',
  ): Promise<Buffer> {
    const copies = await settleAll(
      this.#members.map(async (member): Promise<WrappedCopy> => {
        const done = known.get(member.id);
        if (done !== undefined) return { keyringId: member.id, wrappedKey: done };
        try {
          return { keyringId: member.id, wrappedKey: await member.wrapKey(plaintextKey, context) };
        } catch (error) {
          throw new KeyringError(messages.multiWrapFailed(this.id, member.id, describeError(member.id, error)), {
            keyringId: this.id,
            operation,
            retryable: (error as KeyringError)?.retryable === true,
          });
        }
      }),
    );
    return encodeWrappedCopies(copies);
  }

  /** First success wins; later successes are zeroed; `undefined` when all fail. */
  #race(
    candidates: readonly Keyring[],
    attempt: (member: Keyring) => Promise<Buffer>,
    failures: { id: string; error: unknown }[],
  ): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      let settled = false;
      let pending = candidates.length;
      for (const member of candidates) {
        attempt(member).then(
          (key) => {
            if (settled) key.fill(0);
            else {
              settled = true;
              resolve(key);
            }
          },
          (error: unknown) => {
            failures.push({ id: member.id, error });
            if (--pending === 0 && !settled) resolve(undefined);
          },
        );
      }
    });
  }
}
