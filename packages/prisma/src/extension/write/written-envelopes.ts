/**
 * The envelopes one write operation sealed, with the plaintext each was sealed from. A write
 * that returns rows (create, update, upsert, ...) gets its own envelopes back from the
 * database; decrypting them again would cost an AES-GCM call per value to learn what the
 * caller just gave. An envelope is answered from here only when the result names exactly the
 * same string, model, field and row id it was sealed for, in a row of the scope it was sealed
 * for (when the read checks the row's scope), i.e. exactly when decrypting it would return this
 * plaintext; anything else is decrypted as usual (and refused there if it must be).
 *
 * Lives for one operation only (the plaintexts are the caller's own arguments).
 */

interface Sealed {
  readonly envelope: string;
  readonly plain: string;
  readonly model: string;
  readonly field: string;
  readonly rowId: string | undefined;
  readonly scope: string;
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

  /**
   * Records that `envelope` was sealed from `plain` for (model, field, rowId) under the key of
   * `scope`. An envelope recorded again replaces what was recorded of it.
   */
  add(envelope: string, plain: string, model: string, field: string, rowId: string | undefined, scope: string): void {
    const sealed: Sealed = { envelope, plain, model, field, rowId, scope };
    const listed = this.listed;
    if (this.byEnvelope === undefined) {
      for (let i = 0; i < listed.length; i++) {
        if (listed[i].envelope === envelope) {
          listed[i] = sealed;
          return;
        }
      }
      if (listed.length < LISTED) {
        listed.push(sealed);
        return;
      }
      this.byEnvelope = new Map(listed.map((entry) => [entry.envelope, entry]));
      listed.length = 0;
    }
    this.byEnvelope.set(envelope, sealed);
  }

  /**
   * The plaintext `envelope` was sealed from, if it was sealed here for exactly this place.
   * @param scope - the scope of the row it was read from, when the read checks it (as decrypting
   *   would: a value sealed under another scope's key is refused there, so it is not answered here)
   */
  plaintextOf(
    envelope: string,
    model: string,
    field: string,
    rowId: string | undefined,
    scope: string | undefined,
  ): string | undefined {
    const byEnvelope = this.byEnvelope;
    let sealed: Sealed | undefined;
    if (byEnvelope !== undefined) {
      sealed = byEnvelope.get(envelope);
      if (sealed === undefined || sealed.model !== model || sealed.field !== field || sealed.rowId !== rowId) {
        return undefined;
      }
    } else {
      const listed = this.listed;
      for (let i = 0; i < listed.length; i++) {
        const entry = listed[i];
        if (entry.field === field && entry.model === model && entry.rowId === rowId && entry.envelope === envelope) {
          sealed = entry;
          break;
        }
      }
      if (sealed === undefined) return undefined;
    }
    return scope === undefined || sealed.scope === scope ? sealed.plain : undefined;
  }
}
