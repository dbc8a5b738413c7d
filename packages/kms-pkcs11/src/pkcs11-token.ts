/**
 * The token side of the keyring: the slot found by token label (on a module loaded through
 * `pkcs11-module.ts`), a small pool of sessions logged in as the user, and the AES key found by
 * label. A session runs one operation at a time; an operation the caller stopped waiting for
 * (timeout) keeps its session until the token answers. After a session-level failure every
 * session is reopened and the key looked up again.
 */
import * as pkcs11js from 'pkcs11js';
import { untilAborted } from '@hushfield/core';
import { PIN_FAILURES, Pkcs11SetupError, RESET_SESSIONS, returnValueName } from './pkcs11-errors';
import { acquireModule, releaseModule, type Pkcs11Module } from './pkcs11-module';

/** How a wait the caller gave up on (its signal fired) rejects. */
const ABORTED = { error: () => new Error('aborted') };

/** A secret given directly or by a (possibly async) function called when it is needed. */
export type PinSource = string | (() => string | Promise<string>);

/** Where the key is. */
export interface TokenLocation {
  /** The PKCS#11 module: a library path (loaded and initialised here) or a loaded, initialised module. */
  readonly module: string | Pkcs11Module;
  /** The token's label (CKA/`CK_TOKEN_INFO.label`, trailing spaces ignored). */
  readonly tokenLabel: string;
  /** The user PIN. */
  readonly pin: PinSource;
  /** The AES key's CKA_LABEL. */
  readonly keyLabel: string;
  /** Sessions opened on the token (concurrent operations). */
  readonly sessions: number;
  /** Longest wait for a PIN function's answer, in ms (the keyring's `timeoutMs`). */
  readonly pinTimeoutMs: number;
}

interface Session {
  readonly handle: pkcs11js.Handle;
  busy: boolean;
  /** Dropped by a reset while busy: closed when its operation ends. */
  dropped: boolean;
}

/** One keyring's view of its token. */
export class Pkcs11Token {
  readonly #location: TokenLocation;
  readonly #module: Pkcs11Module;
  readonly #library: string | undefined;
  #sessions: Session[] = [];
  #key: pkcs11js.Handle | undefined;
  #opening: Promise<void> | undefined;
  #waiters: (() => void)[] = [];
  #pinRefused = false;
  /** Whether the open in progress waits for the PIN function. */
  #awaitingPin = false;
  /** Counts abandoned opens: one whose PIN comes after it was abandoned opens nothing. */
  #generation = 0;
  /** Signals of attempts that timed out waiting for the PIN function. */
  readonly #pinTimedOut = new WeakSet<AbortSignal>();
  #closed = false;

  /** @throws whatever loading the library throws (a missing file, not a PKCS#11 module) */
  constructor(location: TokenLocation) {
    this.#location = location;
    this.#library = typeof location.module === 'string' ? location.module : undefined;
    this.#module = typeof location.module === 'string' ? acquireModule(location.module) : location.module;
  }

  /**
   * Runs `operation` on a free, logged-in session with the key's handle. Rejects when `signal`
   * fires first; the session stays taken until the token answers, and `discard` receives a
   * result nobody waits for any more (to zero it).
   */
  async run<T>(
    signal: AbortSignal,
    operation: (module: Pkcs11Module, session: pkcs11js.Handle, key: pkcs11js.Handle) => Promise<T>,
    discard: (result: T) => void = () => undefined,
  ): Promise<T> {
    if (this.#closed) throw new Pkcs11SetupError('Closed');
    if (this.#pinRefused) throw new Pkcs11SetupError('PinRefused');
    // Told at once (the caller's timeout is classified as soon as the signal fires): the PIN
    // function had not answered when the attempt's time ran out.
    const onAbort = (): void => {
      if (!this.#awaitingPin) return;
      this.#pinTimedOut.add(signal);
      // The next call opens afresh and asks the PIN function again; the login waiting on this
      // answer is abandoned (it opens nothing should the answer come).
      this.#opening = undefined;
      this.#awaitingPin = false;
      this.#generation++;
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await untilAborted(this.#ready(), signal, ABORTED);
    } catch (error) {
      throw this.#pinTimedOut.has(signal) ? new Pkcs11SetupError('PinSourceTimeout') : error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    const session = await this.#checkout(signal);
    const key = this.#key as pkcs11js.Handle;
    // Async wrapper: a PKCS#11 call that throws synchronously (C_EncryptInit) must still free the session.
    const work = (async () => operation(this.#module, session.handle, key))().finally(() => this.#checkin(session));
    work.then(undefined, (error: unknown) => {
      const name = returnValueName(error);
      if (name !== undefined && RESET_SESSIONS.has(name)) this.#reset();
    });
    try {
      return await untilAborted(work, signal, ABORTED);
    } catch (error) {
      if (signal.aborted) work.then(discard, () => undefined);
      throw error;
    }
  }

  /** Whether the attempt of `signal` timed out waiting for the PIN function. */
  gaveUpOnPin(signal: AbortSignal): boolean {
    return this.#pinTimedOut.has(signal);
  }

  /** Reads attributes of the key (for `describeKey`). */
  attributes(
    signal: AbortSignal,
  ): Promise<{ valueLength: number; sensitive: boolean; extractable: boolean; tokenLabel: string }> {
    return this.run(signal, async (module, session, key) => {
      const [length, sensitive, extractable] = module.C_GetAttributeValue(session, key, [
        { type: pkcs11js.CKA_VALUE_LEN },
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_EXTRACTABLE },
      ]);
      return {
        valueLength: readUlong(length.value),
        sensitive: readBool(sensitive.value),
        extractable: readBool(extractable.value),
        tokenLabel: this.#location.tokenLabel,
      };
    });
  }

  /** Closes the sessions and releases the module (finalising it with its last user). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reset();
    if (this.#library !== undefined) releaseModule(this.#library);
  }

  #ready(): Promise<void> {
    if (this.#sessions.length > 0 && this.#key !== undefined) return Promise.resolve();
    if (this.#opening === undefined) {
      const opening = this.#open().finally(() => {
        if (this.#opening === opening) this.#opening = undefined;
      });
      this.#opening = opening;
    }
    return this.#opening;
  }

  async #open(): Promise<void> {
    const module = this.#module;
    const slot = module
      .C_GetSlotList(true)
      .find((candidate) => module.C_GetTokenInfo(candidate).label.trimEnd() === this.#location.tokenLabel);
    if (slot === undefined) throw new Pkcs11SetupError('TokenNotFound');
    const generation = this.#generation;
    this.#awaitingPin = true;
    let pin: string;
    try {
      pin = await readPin(this.#location.pin, this.#location.pinTimeoutMs);
    } finally {
      if (generation === this.#generation) this.#awaitingPin = false;
    }
    if (generation !== this.#generation) throw new Pkcs11SetupError('PinSourceTimeout');
    const sessions: Session[] = [];
    try {
      for (let i = 0; i < this.#location.sessions; i++) {
        sessions.push({ handle: module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION), busy: false, dropped: false });
      }
      try {
        module.C_Login(sessions[0].handle, pkcs11js.CKU_USER, pin);
      } catch (error) {
        const name = returnValueName(error);
        if (name !== 'CKR_USER_ALREADY_LOGGED_IN') {
          if (name !== undefined && PIN_FAILURES.has(name)) this.#pinRefused = true;
          throw error;
        }
      }
      this.#key = findKey(module, sessions[0].handle, this.#location.keyLabel);
    } catch (error) {
      for (const session of sessions) closeQuietly(module, session.handle);
      throw error;
    }
    this.#sessions = sessions;
  }

  async #checkout(signal: AbortSignal): Promise<Session> {
    for (;;) {
      const free = this.#sessions.find((session) => !session.busy);
      if (free !== undefined) {
        free.busy = true;
        return free;
      }
      if (this.#sessions.length === 0) await untilAborted(this.#ready(), signal, ABORTED);
      else await this.#waitForCheckin(signal);
    }
  }

  /**
   * Waits for a session to be checked in. A caller that stops waiting (timeout) leaves the
   * queue, and a wake it was already handed goes to the next waiter: otherwise the freed
   * session would wake nobody and a live caller would wait out its own deadline.
   */
  async #waitForCheckin(signal: AbortSignal): Promise<void> {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    this.#waiters.push(wake);
    try {
      await untilAborted(woken, signal, ABORTED);
    } catch (error) {
      const index = this.#waiters.indexOf(wake);
      if (index >= 0) this.#waiters.splice(index, 1);
      else this.#waiters.shift()?.();
      throw error;
    }
  }

  #checkin(session: Session): void {
    session.busy = false;
    if (session.dropped) closeQuietly(this.#module, session.handle);
    this.#waiters.shift()?.();
  }

  /** Drops every session (closing the idle ones now, busy ones when they finish) and the key handle. */
  #reset(): void {
    const sessions = this.#sessions;
    this.#sessions = [];
    this.#key = undefined;
    for (const session of sessions) {
      if (session.busy) session.dropped = true;
      else closeQuietly(this.#module, session.handle);
    }
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

function closeQuietly(module: Pkcs11Module, session: pkcs11js.Handle): void {
  try {
    module.C_CloseSession(session);
  } catch {
    // the session is already gone
  }
}

/** Finds the one AES secret key labelled `label` that is 256 bits, sensitive, and allows encrypt and decrypt. */
function findKey(module: Pkcs11Module, session: pkcs11js.Handle, label: string): pkcs11js.Handle {
  module.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  let found: pkcs11js.Handle[];
  try {
    found = module.C_FindObjects(session, 2);
  } finally {
    module.C_FindObjectsFinal(session);
  }
  if (found.length === 0) throw new Pkcs11SetupError('KeyNotFound');
  if (found.length > 1) throw new Pkcs11SetupError('KeyAmbiguous');
  const [length, sensitive, encrypt, decrypt] = module.C_GetAttributeValue(session, found[0], [
    { type: pkcs11js.CKA_VALUE_LEN },
    { type: pkcs11js.CKA_SENSITIVE },
    { type: pkcs11js.CKA_ENCRYPT },
    { type: pkcs11js.CKA_DECRYPT },
  ]);
  if (
    readUlong(length.value) !== 32 ||
    !readBool(sensitive.value) ||
    !readBool(encrypt.value) ||
    !readBool(decrypt.value)
  ) {
    throw new Pkcs11SetupError('KeyUnfit');
  }
  return found[0];
}

/**
 * The PIN `source` gives. A function has `timeoutMs` to answer: one that never does would
 * otherwise hold the login, and every call after it, for good. Its failures become setup codes
 * (not retried; the function is asked again on the next call); what it threw is not kept, since
 * its text may quote the PIN.
 */
async function readPin(source: PinSource, timeoutMs: number): Promise<string> {
  let pin: unknown = source;
  if (typeof source === 'function') {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Pkcs11SetupError('PinSourceTimeout')), timeoutMs);
    });
    try {
      pin = await Promise.race([(async () => source())(), late]);
    } catch (error) {
      throw error instanceof Pkcs11SetupError ? error : new Pkcs11SetupError('PinSourceFailed');
    } finally {
      clearTimeout(timer);
    }
  }
  if (typeof pin !== 'string' || pin.length === 0 || pin.length > 256) {
    throw new Pkcs11SetupError('PinSourceFailed');
  }
  return pin;
}

function readBool(value: unknown): boolean {
  return Buffer.isBuffer(value) ? value.length > 0 && value[0] !== 0 : value === true;
}

/** A CK_ULONG attribute (native endianness and width, 8 bytes on 64-bit Linux). */
function readUlong(value: unknown): number {
  if (!Buffer.isBuffer(value)) return typeof value === 'number' ? value : -1;
  if (value.length === 8) return Number(value.readBigUInt64LE());
  if (value.length === 4) return value.readUInt32LE();
  return -1;
}
