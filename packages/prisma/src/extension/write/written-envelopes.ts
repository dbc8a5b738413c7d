/**
 * The envelopes one write operation sealed, with the plaintext each was sealed from. A write
 * that returns rows (create, update, upsert, ...) gets its own envelopes back from the
 * database; decrypting them again would cost an AES-GCM call per value to learn what the
 * caller just gave. An envelope is answered from here only when the result names exactly the
 * same string, model, field and row id it was sealed for, i.e. exactly when decrypting it
 * would return this plaintext; anything else is decrypted as usual.
 *
 * Lives for one operation only (the plaintexts are the caller's own arguments).
 */

interface Sealed {
  readonly envelope: string;
  readonly plain: string;
  readonly model: string;
  readonly field: string;
  readonly rowId: string | undefined;
}

/**
 * Up to this many envelopes are kept in a list and found by comparing their place, then the
 * envelope itself; more go into a `Map` keyed by envelope. A point write seals a few values,
 * and hashing its envelopes (a few hundred characters each, and the database hands back new
 * strings) cost more than comparing them: V8 hashes a string character by character the first
 * time it is a key, while `===` on two strings of equal length compares memory.
 */
const LISTED = 8;

/** Envelopes sealed by one operation (database names, as in the associated data). */
export class WrittenEnvelopes {
  private readonly listed: Sealed[] = [];
  private byEnvelope: Map<string, Sealed> | undefined;

  /** How many envelopes are recorded. */
  get size(): number {
    return this.byEnvelope === undefined ? this.listed.length : this.byEnvelope.size;
  }

  /** Records that `envelope` was sealed from `plain` for (model, field, rowId). */
  add(envelope: string, plain: string, model: string, field: string, rowId: string | undefined): void {
    const sealed: Sealed = { envelope, plain, model, field, rowId };
    if (this.byEnvelope === undefined && this.listed.length < LISTED) {
      this.listed.push(sealed);
      return;
    }
    if (this.byEnvelope === undefined) {
      this.byEnvelope = new Map(this.listed.map((entry) => [entry.envelope, entry]));
      this.listed.length = 0;
    }
    this.byEnvelope.set(envelope, sealed);
  }

  /** The plaintext `envelope` was sealed from, if it was sealed here for exactly this place. */
  plaintextOf(envelope: string, model: string, field: string, rowId: string | undefined): string | undefined {
    const byEnvelope = this.byEnvelope;
    if (byEnvelope !== undefined) {
      const sealed = byEnvelope.get(envelope);
      return sealed !== undefined && sealed.model === model && sealed.field === field && sealed.rowId === rowId
        ? sealed.plain
        : undefined;
    }
    const listed = this.listed;
    for (let i = 0; i < listed.length; i++) {
      const sealed = listed[i];
      if (sealed.field === field && sealed.model === model && sealed.rowId === rowId && sealed.envelope === envelope) {
        return sealed.plain;
      }
    }
    return undefined;
  }
}
