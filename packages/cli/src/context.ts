/**
 * What every command works with, built lazily from the configuration: the base Prisma client,
 * the keyring, the key store and one `FieldCrypto`. `close()` disconnects what was opened.
 */
import { userInfo } from 'node:os';
import { FieldCrypto } from '@hushfield/core';
import type { ActorContext, AuditSink, KeyStore, Keyring } from '@hushfield/core';
import { createShredGuard } from './shred-guard';
import type { ShredGuard } from './shred-guard';
import { PrismaKeyStore } from '@hushfield/prisma';
import type { HushfieldSchema, ModelMeta } from '@hushfield/prisma';
import { ConfigError, InvalidArgumentError } from '@hushfield/core';
import type { BasePrismaClient, LoadedConfig } from './config';
import { resolveLazy } from './config';
import { messages } from './messages';
import { errorClass, type Output } from './output';

/** Default key cache of the CLI: long enough for a run, bounded. */
export const DEFAULT_CACHE = { ttlMs: 5 * 60_000, maxEntries: 10_000 };

/** Lazily opened resources of one command invocation. */
export class CommandContext {
  readonly loaded: LoadedConfig;
  readonly out: Output;
  private openedClient?: Promise<BasePrismaClient>;
  private clientPromise?: Promise<BasePrismaClient>;
  private keyringPromise?: Promise<Keyring>;
  private keyStorePromise?: Promise<KeyStore>;
  private cryptoPromise?: Promise<FieldCrypto>;
  private actorChecked = false;

  constructor(loaded: LoadedConfig, out: Output) {
    this.loaded = loaded;
    this.out = out;
  }

  /** The generated schema metadata. */
  get schema(): HushfieldSchema {
    return this.loaded.config.schema;
  }

  /** Models with encrypted fields, optionally just `only` (Prisma model name). */
  models(only?: string): ModelMeta[] {
    const all = Object.values(this.schema.models).filter((model) => Object.keys(model.encrypted).length > 0);
    if (!only) return all;
    const model =
      this.schema.models[only] ??
      Object.values(this.schema.models).find((candidate) => candidate.name.toLowerCase() === only.toLowerCase());
    if (!model) {
      throw new InvalidArgumentError(messages.config.unknownModel(only, Object.keys(this.schema.models)), 'model');
    }
    if (Object.keys(model.encrypted).length === 0) {
      throw new InvalidArgumentError(messages.config.noEncryptedFields(model.name), 'model');
    }
    return [model];
  }

  /** The base (unextended) Prisma client. */
  client(): Promise<BasePrismaClient> {
    this.openedClient ??= Promise.resolve(this.loaded.config.prisma());
    // An extended client would hand the CLI decrypted values, which it would then send back
    // to the database as compare-and-swap conditions: refuse it before any row is read.
    this.clientPromise ??= this.openedClient.then((client) => {
      if ((client as { $hushfield?: unknown }).$hushfield !== undefined) {
        throw new ConfigError(messages.config.extendedClient(this.loaded.path));
      }
      return client;
    });
    return this.clientPromise;
  }

  /** The configured root keyring. */
  keyring(): Promise<Keyring> {
    this.keyringPromise ??= resolveLazy(this.loaded.config.keyring);
    return this.keyringPromise;
  }

  /** The configured key store, or a `PrismaKeyStore` on the base client. */
  keyStore(): Promise<KeyStore> {
    this.keyStorePromise ??= (async () => {
      const configured = this.loaded.config.keyStore;
      const client = await this.client();
      if (typeof configured === 'function') return configured(client);
      if (configured) return configured;
      return new PrismaKeyStore(client, { model: this.schema.keyStoreModel });
    })();
    return this.keyStorePromise;
  }

  /**
   * The check bulk writes make, in their own transaction, that no key their rows were read
   * under was shredded: for the default key store only (see `shred-guard.ts`).
   */
  async shredGuard(): Promise<ShredGuard | undefined> {
    const client = await this.client();
    // A PrismaKeyStore the config makes on the CLI's own client for the schema's key-store model
    // is the default one written out (the config sample's `(client) => new PrismaKeyStore(client)`).
    const store = this.loaded.config.keyStore === undefined ? undefined : await this.keyStore();
    const own = store instanceof PrismaKeyStore && store.isOver(client, this.schema.keyStoreModel);
    return createShredGuard(client, this.schema, store !== undefined && !own);
  }

  /** One `FieldCrypto` for the whole invocation (one key cache). */
  crypto(): Promise<FieldCrypto> {
    this.cryptoPromise ??= (async () => {
      const config = this.loaded.config;
      return new FieldCrypto({
        keyring: await this.keyring(),
        keyStore: await this.keyStore(),
        cache: { ...DEFAULT_CACHE, ...config.cache },
        // A bulk run reads each value once and never re-reads what it writes: caching per-row
        // data keys would only cost time and memory.
        dekCache: false,
        audit: config.audit,
        actor: this.checkedActor(),
        unicodeMismatch: config.unicodeMismatch,
      });
    })();
    return this.cryptoPromise;
  }

  /**
   * Audit sink and actor for keyring calls the CLI makes itself (health checks).
   * @throws ConfigError when an audit sink is configured and `actor()` throws or yields no actor
   */
  get audit(): { sink?: AuditSink; actor: () => ActorContext | undefined } {
    return { sink: this.loaded.config.audit, actor: this.checkedActor() };
  }

  /**
   * The configured actor (or the default), called once up front when an audit sink is
   * configured: an `actor()` that throws, or yields no actor, would leave every key event of
   * the command (a shred, say) without anyone named, so the command stops before any of them.
   * @throws ConfigError naming what was wrong (the error's class, never its message)
   */
  private checkedActor(): () => ActorContext | undefined {
    const actor = this.loaded.config.actor ?? defaultActor;
    if (this.actorChecked || this.loaded.config.audit === undefined) return actor;
    let value: unknown;
    try {
      value = actor();
    } catch (error) {
      throw new ConfigError(messages.config.actorFailed(`threw ${errorClass(error)}`));
    }
    const isActor =
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      Object.keys(value).length > 0 &&
      Object.values(value).every((field) => typeof field === 'string');
    if (!isActor) throw new ConfigError(messages.config.actorFailed('returned no actor (an object of strings)'));
    this.actorChecked = true;
    return actor;
  }

  /**
   * Writes what the configured audit sink still queues (its `close()`, when it has one), so that
   * the events of the command (a shred's `key.destroy`, a worker thread's `key.create`) are not
   * lost when the process or thread ends. Call before {@link close}: a queueing sink may write
   * through the client.
   * @returns what `close()` rejected with (events not written), or `undefined`
   */
  async closeAuditSink(): Promise<unknown> {
    const sink: AuditSink | undefined = this.loaded.config.audit;
    if (typeof sink?.close !== 'function') return undefined;
    try {
      await sink.close();
      return undefined;
    } catch (error) {
      return error;
    }
  }

  /**
   * Disconnects the Prisma client if it was opened, and zeroes the keys the invocation cached
   * (with their expiry timers: a command run in a longer-lived process leaves neither behind).
   */
  async close(): Promise<void> {
    const crypto = await this.cryptoPromise?.catch(() => undefined);
    crypto?.clearCaches();
    if (!this.openedClient) return;
    const client = await this.openedClient.catch(() => undefined);
    await client?.$disconnect().catch(() => undefined);
  }
}

function defaultActor(): Record<string, string> {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (containers): keep 'unknown'.
  }
  return { tool: 'hushfield-cli', user };
}
