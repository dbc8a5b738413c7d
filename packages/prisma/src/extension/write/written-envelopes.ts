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
  readonly plain: string;
  readonly model: string;
  readonly field: string;
  readonly rowId: string | undefined;
}

/** Envelopes sealed by one operation (database names, as in the associated data). */
export class WrittenEnvelopes {
  private readonly byEnvelope = new Map<string, Sealed>();

  /** How many envelopes are recorded. */
  get size(): number {
    return this.byEnvelope.size;
  }

  /** Records that `envelope` was sealed from `plain` for (model, field, rowId). */
  add(envelope: string, plain: string, model: string, field: string, rowId: string | undefined): void {
    this.byEnvelope.set(envelope, { plain, model, field, rowId });
  }

  /** The plaintext `envelope` was sealed from, if it was sealed here for exactly this place. */
  plaintextOf(envelope: string, model: string, field: string, rowId: string | undefined): string | undefined {
    const sealed = this.byEnvelope.get(envelope);
    if (sealed === undefined || sealed.model !== model || sealed.field !== field || sealed.rowId !== rowId)
      return undefined;
    return sealed.plain;
  }
}
