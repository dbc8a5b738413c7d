/**
 * A keyring that counts the calls it forwards, so a benchmark can report keyring (KMS) calls
 * independently of what the key cache says about itself.
 */
import type { EncryptionContext, GeneratedKey, Keyring } from '@hushfield/core';

/** Calls counted so far, by operation. */
export interface KeyringCalls {
  wrap: number;
  unwrap: number;
  generate: number;
}

/** Total of all operations. */
export function totalCalls(calls: KeyringCalls): number {
  return calls.wrap + calls.unwrap + calls.generate;
}

/** Wraps `inner`, counting every call; `calls` can be read and reset at any time. */
export class CountingKeyring implements Keyring {
  readonly id: string;
  calls: KeyringCalls = { wrap: 0, unwrap: 0, generate: 0 };
  readonly generateKey?: (context: EncryptionContext) => Promise<GeneratedKey>;

  constructor(private readonly inner: Keyring) {
    this.id = inner.id;
    if (inner.generateKey) {
      const generate = inner.generateKey.bind(inner);
      this.generateKey = (context) => {
        this.calls.generate += 1;
        return generate(context);
      };
    }
  }

  wrapKey(plaintextKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    this.calls.wrap += 1;
    return this.inner.wrapKey(plaintextKey, context);
  }

  unwrapKey(wrappedKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    this.calls.unwrap += 1;
    return this.inner.unwrapKey(wrappedKey, context);
  }

  /** Sets every counter back to zero. */
  reset(): void {
    this.calls = { wrap: 0, unwrap: 0, generate: 0 };
  }

  toJSON(): { id: string; calls: KeyringCalls } {
    return { id: this.id, calls: this.calls };
  }
}
