/**
 * `fieldEncryption()`: the Prisma client extension. Encrypts on the way in, decrypts on the
 * way out, answers equality lookups through blind indexes and refuses, before any query,
 * whatever would send an encrypted field's plaintext to the database.
 *
 * @example
 * const prisma = new PrismaClient({ adapter }).$extends(
 *   fieldEncryption({ schema: hushfieldSchema, keyring: LocalKeyring.fromEnv() }),
 * );
 */
import { Prisma, type PrismaClientExtends } from '@prisma/client/extension';
import type { Bytes, DefaultArgs, InternalArgs, JsonValue } from '@prisma/client/runtime/client';
import {
  type ActorContext,
  type AuditDecryptsOption,
  type AuditSink,
  type CacheStats,
  checkFieldCryptoOptions,
  ConfigError,
  FieldCrypto,
  type FieldCryptoOptions,
  type KeyCacheOptions,
  type Keyring,
  type KeyStore,
  type ParallelDecryptOption,
} from '@hushfield/core';
import { PrismaKeyStore } from '../key-store/prisma-key-store';
import type { HushfieldSchema, ModelMeta } from '../metadata';
import { type OnDecryptError, ResultDecryptor } from './read/decrypt-result';
import { OperationHandler, type QueryParams } from './query/operations';
import { type ClientOmit, isPlainObject, SchemaView } from './schema-view';
import { type AnyClient, inTransaction, type TransactionScope } from './transaction-context';
import { TransactionKeyStore } from './transaction-key-store';
import { guardedExtends } from './later-extensions';
import { unextendedClient } from './unextended-client';
import { bindingMayBeMissing } from '../value-context';

/**
 * Options of {@link fieldEncryption}: {@link FieldEncryptionSettings} with a `keyring` or a
 * shared `crypto`, one of which the extension needs.
 */
export type FieldEncryptionOptions = FieldEncryptionSettings & KeyringOrCrypto;

/** The options of {@link fieldEncryption}, `keyring` and `crypto` optional each. */
export interface FieldEncryptionSettings {
  /** The generator's output (`hushfieldSchema` from the generated module). */
  readonly schema: HushfieldSchema;
  /** The root keyring (KMS, or `LocalKeyring` for development). Not needed when `crypto` is given. */
  readonly keyring?: Keyring;
  /** Where wrapped keys live. Default: `PrismaKeyStore` on the client being extended. */
  readonly keyStore?: KeyStore;
  /** Key cache. Default `{ ttlMs: 300_000, maxEntries: 1000 }`; `null` is refused (leave it out). */
  readonly cache?: KeyCacheOptions;
  /**
   * Share one `FieldCrypto` (e.g. with the CLI) instead of `keyring`/`keyStore`/`cache`. Its own
   * settings apply: the options it stands for are refused beside it (see {@link KeyringOrCrypto}).
   */
  readonly crypto?: FieldCrypto;
  /** Receives keyring and key lifecycle audit events. */
  readonly audit?: AuditSink;
  /** The acting user/request, attached to audit events. */
  readonly actor?: () => ActorContext | undefined;
  /** Per-value `value.decrypt` audit events: `true`, or `{ sample: 0.01 }`; default off. */
  readonly auditDecrypts?: AuditDecryptsOption;
  /**
   * `throw` (default): a value that fails to decrypt throws a typed error. `null`: it reads
   * as `null` instead (keyring outages still throw: they are transient, not data loss), and
   * the extended client's result types say so: every encrypted field is `string | null` (a
   * `Json`, `Bytes` or `String[]` one its own type or `null`).
   */
  readonly onDecryptError?: OnDecryptError;
  /**
   * Whether the database driver has a single connection, or one writer (PGlite, SQLite, libSQL,
   * D1). Detected from the adapter name when absent; decides whether keys may be created inside
   * an interactive transaction.
   */
  readonly singleConnection?: boolean;
  /**
   * Takes a query extension on an encrypted model added after this one (`$extends` of the
   * extended client), which is otherwise a `ConfigError`. Unsafe: such an extension runs on what
   * hushfield sends, so a where or data it adds goes to the database unencrypted, and it sees
   * ciphertext as results. Only for one that observes without changing (a test's spy).
   */
  readonly unsafeQueryExtensionsAfter?: boolean;
  /**
   * A blind index whose normalizers are pinned to another Unicode version than this runtime's:
   * `'refuse'` (default, a ConfigError before the query) or `'warn'` (README, "Node upgrades and Unicode").
   */
  readonly unicodeMismatch?: 'refuse' | 'warn';
  /**
   * Reads of many encrypted values (default: 4,096 or more in one result) shared with a decrypt
   * thread, which opens about half of them while the query's own thread opens the rest:
   * `{ minValues }`, or `false` to decrypt every value on the calling thread (README, "Large
   * reads"). Refused beside `crypto` (set it there).
   */
  readonly parallelDecrypt?: ParallelDecryptOption;
  /**
   * Scoped models whose `@encryption(scope: ...)` was added or changed and whose stored values
   * `hushfield reencrypt --rescope` has not moved to their rows' scopes yet. Every other scoped
   * model's values must be sealed under their own row's scope key: a value sealed under
   * another scope's (copied from another tenant's row, or a scope column changed in SQL) fails
   * with `DecryptionError`. Listed models skip that check; remove them once the migration ran.
   */
  readonly migratingScopes?: readonly string[];
  /**
   * Models whose `@encryption(bind: ...)` was added and whose stored values
   * `hushfield reencrypt --rebind` has not sealed again, bound, yet. A listed model's value that
   * fails to open bound to its row is opened as it was sealed before, without the binding (so
   * a value copied between two of its rows still opens until the migration ran); every other
   * bound model's values must be bound. Remove them once the migration ran.
   */
  readonly migratingBindings?: readonly string[];
  /**
   * The `omit` the client was created with (`new PrismaClient({ omit })`). A read that needs a
   * field the client leaves out (a scoped model's scope field, a bound model's id) asks for it
   * and strips it from the result again. Read from the client when absent; give it when the
   * client is wrapped so that the extension cannot see it.
   */
  readonly omit?: ClientOmit;
}

/**
 * The part of {@link FieldEncryptionOptions} the runtime needs one of: a `keyring`, or a shared
 * `crypto`, which then brings its own key store, cache, audit sink and decrypt settings:
 * `keyStore`, `cache`, `audit`, `actor`, `auditDecrypts`, `unicodeMismatch`, `parallelDecrypt`
 * and `singleConnection` are refused beside it.
 */
export type KeyringOrCrypto =
  | { readonly keyring: Keyring }
  | ({ readonly crypto: FieldCrypto } & { readonly [K in (typeof CRYPTO_SETTINGS)[number]]?: undefined });

/**
 * The options a shared `crypto` stands for: given beside it they would be ignored (an audit
 * sink receiving nothing, a shorter cache TTL not applied), so they are refused.
 */
const CRYPTO_SETTINGS = [
  'keyStore',
  'cache',
  'audit',
  'actor',
  'auditDecrypts',
  'unicodeMismatch',
  'parallelDecrypt',
  'singleConnection',
] as const;

/** What the extended client gains as `prisma.$hushfield`. */
export interface HushfieldClientApi {
  /** The crypto engine: key hierarchy (`crypto.keys`), blind indexes, cache counters. */
  readonly crypto: FieldCrypto;
  /** Key-cache and DEK-cache counters (hits, misses, keyring calls...). */
  stats(): CacheStats;
  /**
   * Loads (creating on first use) the blind-index root key and the keys of `scopes`, so an
   * interactive transaction on a single-connection driver needs no key-store write.
   */
  prepare(scopes?: readonly string[]): Promise<void>;
}

/**
 * What an encrypted field of value type `T` (an `EncryptedFieldMeta`'s `type`; absent for
 * `String`) reads as under `onDecryptError: 'null'`: its own type, or `null`.
 */
type NullableValue<T> = T extends 'Json'
  ? JsonValue | null
  : T extends 'Bytes'
    ? Bytes | null
    : T extends 'String[]'
      ? string[] | null
      : string | null;

/**
 * Each encrypted field of each model of the schema `S` typed as its value or `null` (`string |
 * null`; `JsonValue | null`, `Bytes | null`, `string[] | null` for `Json`, `Bytes`, `String[]`),
 * in the shape of a result extension (`{ user: { email: { compute } } }`): what reads return
 * under `onDecryptError: 'null'`. Needs the generated schema's own type: a `HushfieldSchema`
 * names no field, and gives no change.
 */
export type NullableEncryptedFields<S extends HushfieldSchema> = {
  -readonly [
    M in keyof S['models'] as S['models'][M]['encrypted'] extends Record<string, never>
      ? never
      : Uncapitalize<M & string>
  ]: {
    -readonly [F in keyof S['models'][M]['encrypted']]: {
      compute: () => NullableValue<S['models'][M]['encrypted'][F]['type']>;
    };
  };
};

/**
 * What {@link fieldEncryption} returns, for `prisma.$extends(...)`: the client gains
 * `$hushfield`, and result types change by `R` (a result-extension shape; no computed fields
 * exist at run time, the values are what the query extension returns).
 */
/* eslint-disable @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any --
   Prisma's own extension types are written with `{}` and `any`; these mirror them. */
export type HushfieldExtension<R = {}> = (
  client: any, // as Prisma's own defineExtension types it
) => PrismaClientExtends<InternalArgs<R, {}, {}, { $hushfield: HushfieldClientApi }> & DefaultArgs>;

/**
 * The models of schema `S` whose meta has `K` (`'scopeField'`: `@encryption(scope: ...)`;
 * `'bindField'`: `@encryption(bind: ...)`), by name. Any string when `S` is typed only as
 * `HushfieldSchema` (its model names unknown): the runtime check then stands alone.
 */
type ModelNameWith<S extends HushfieldSchema, K extends string> = string extends keyof S['models']
  ? string
  : { [M in keyof S['models']]: S['models'][M] extends { readonly [P in K]: string } ? M : never }[keyof S['models']] &
      string;

/**
 * The models of schema `S` bound to a single id that a relation's foreign key holds (a profile
 * whose id is its user's), by name: with the models of `@encryption(bind: ...)`, what
 * `migratingBindings` may list (see `bindingMayBeMissing`).
 */
type ForeignKeyBoundModel<S extends HushfieldSchema> = string extends keyof S['models']
  ? string
  : {
      [M in keyof S['models']]: S['models'][M] extends {
        readonly bindRowId: true;
        readonly idFields: readonly [infer Id];
        readonly fields: infer F;
      }
        ? true extends {
            [K in keyof F]: F[K] extends { readonly relationFromFields: readonly (infer From)[] }
              ? Id extends From
                ? true
                : false
              : false;
          }[keyof F]
          ? M
          : never
        : never;
    }[keyof S['models']] &
      string;

/**
 * A list of model names `L` checked against the models it may name (`Allowed`): when its names
 * are known (literals), each must be one of them; a list typed only as `string[]` (options
 * built elsewhere) is left to the runtime check.
 */
type CheckedNames<L extends readonly string[], Allowed extends string> = string extends L[number]
  ? L
  : L & readonly Allowed[];

/**
 * What `migratingScopes` (`L`) and `migratingBindings` (`B`) may list for the generated schema
 * `S`: its scoped models, and its models with `@encryption(bind: ...)` or bound to an id that is a
 * foreign key, so a misspelled or unfit
 * model is a type error as well as a ConfigError.
 */
export interface MigratingModels<S extends HushfieldSchema, L extends readonly string[], B extends readonly string[]> {
  readonly migratingScopes?: CheckedNames<L, ModelNameWith<S, 'scopeField'>>;
  readonly migratingBindings?: CheckedNames<B, ModelNameWith<S, 'bindField'> | ForeignKeyBoundModel<S>>;
}

/** The result-type changes `onDecryptError: E` implies for schema `S` (none unless `E` may be `'null'`). */
export type DecryptErrorResults<S extends HushfieldSchema, E extends OnDecryptError> = 'null' extends E
  ? NullableEncryptedFields<S>
  : {};
/* eslint-enable @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any */

const DEFAULT_CACHE: KeyCacheOptions = { ttlMs: 5 * 60_000, maxEntries: 1000 };

function isSingleConnection(client: AnyClient): boolean {
  const adapter = (client._engineConfig as { adapter?: { adapterName?: string } } | undefined)?.adapter;
  // libSQL (a local file, or Turso's server) takes one writer at a time too.
  return /pglite|sqlite|libsql|d1/i.test(adapter?.adapterName ?? '');
}

/**
 * The isolation level the client opens transactions at when a `$transaction` names none (the
 * constructor's `transactionOptions`, which Prisma keeps in `_engineConfig`), if it has one.
 */
function defaultIsolation(client: AnyClient): unknown {
  const config = client._engineConfig as { transactionOptions?: { isolationLevel?: unknown } } | undefined;
  return config?.transactionOptions?.isolationLevel;
}

/**
 * Whether a transaction of the client opened at no isolation level reads a snapshot: at the
 * client's default level when it has one, else at its database's (MySQL and MariaDB `REPEATABLE
 * READ`, SQLite and CockroachDB `SERIALIZABLE`; PostgreSQL and SQL Server `READ COMMITTED`).
 */
function snapshotByDefault(client: AnyClient): boolean {
  const level = defaultIsolation(client);
  if (typeof level === 'string') return level === 'RepeatableRead' || level === 'Snapshot' || level === 'Serializable';
  const provider = (client._engineConfig as { activeProvider?: unknown } | undefined)?.activeProvider;
  return provider === 'mysql' || provider === 'sqlite' || provider === 'cockroachdb';
}

/** The client's own `omit` (Prisma keeps the constructor's option as `_globalOmit`), or none. */
function clientOmitOf(client: AnyClient): ClientOmit | undefined {
  const omit = client._globalOmit;
  return isPlainObject(omit) ? (omit as ClientOmit) : undefined;
}

/**
 * The hushfield client extension.
 * @param options - schema and keys; see {@link FieldEncryptionOptions} (with the generated
 *   schema, `migratingScopes`/`migratingBindings` written as literal names are checked against
 *   its models by type too: {@link MigratingModels})
 * @returns an extension for `prisma.$extends(...)`; the extended client has `$hushfield`, and
 *   with `onDecryptError: 'null'` its results type every encrypted field nullable (`string | null`...)
 * @throws ConfigError when `options` is not an object, neither `keyring` nor `crypto` is given,
 *   `crypto` is not a `FieldCrypto` or comes with an option it stands for (see
 *   {@link KeyringOrCrypto}), `onDecryptError` is not `'throw'` or `'null'`, `singleConnection`
 *   not a boolean, the schema is not the generator's, `migratingScopes`
 *   names a model that is not a scoped model of it, `migratingBindings` one without
 *   `@encryption(bind: ...)`, or `omit` is not an object
 * @throws ConfigError or InvalidArgumentError naming the option when, without `crypto`, `keyring`,
 *   `keyStore`, `cache`, `audit`, `actor`, `auditDecrypts`, `unicodeMismatch` or
 *   `parallelDecrypt` is not what it names (`null` included: see `checkFieldCryptoOptions` of
 *   @hushfield/core); and ConfigError from `$extends` when the client
 *   is already extended with hushfield, or (on the extended client) for a query extension on an
 *   encrypted model, `$allModels` or `$allOperations` added after it (add it before)
 */
export function fieldEncryption<
  S extends HushfieldSchema,
  E extends OnDecryptError = 'throw',
  const L extends readonly string[] = readonly string[],
  const B extends readonly string[] = readonly string[],
>(
  options: FieldEncryptionOptions & { readonly schema: S; readonly onDecryptError?: E } & MigratingModels<S, L, B>,
): HushfieldExtension<DecryptErrorResults<S, E>> {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('fieldEncryption: options must be an object');
  }
  const { schema } = options;
  if (schema?.formatVersion !== 1 || typeof schema.models !== 'object') {
    throw new ConfigError(
      'fieldEncryption: `schema` must be the hushfieldSchema the generator wrote (formatVersion 1)',
    );
  }
  if (options.crypto === undefined && options.keyring === undefined) {
    throw new ConfigError('fieldEncryption: give `keyring` (and optionally `keyStore`, `cache`) or a shared `crypto`');
  }
  if (options.crypto !== undefined && !isFieldCrypto(options.crypto)) {
    throw new ConfigError(
      'fieldEncryption: `crypto` must be a FieldCrypto (`new FieldCrypto(...)` of @hushfield/core)',
    );
  }
  const ignored = CRYPTO_SETTINGS.find((name) => options.crypto !== undefined && options[name] !== undefined);
  if (ignored !== undefined) {
    throw new ConfigError(
      `fieldEncryption: \`${ignored}\` is the shared crypto's setting: give it to that FieldCrypto`,
    );
  }
  // Checked here, not when the client is extended (where the crypto is built, with a key store
  // over that client): a wrong keyring, key store, cache or audit option fails at this call.
  if (options.crypto === undefined) checkFieldCryptoOptions(cryptoOptions(options), 'optional');
  const onDecryptError: unknown = options.onDecryptError;
  if (onDecryptError !== undefined && onDecryptError !== 'throw' && onDecryptError !== 'null') {
    throw new ConfigError("fieldEncryption: `onDecryptError` must be 'throw' or 'null'");
  }
  if (options.singleConnection !== undefined && typeof options.singleConnection !== 'boolean') {
    throw new ConfigError('fieldEncryption: `singleConnection` must be true or false');
  }
  if (options.unsafeQueryExtensionsAfter !== undefined && typeof options.unsafeQueryExtensionsAfter !== 'boolean') {
    throw new ConfigError('fieldEncryption: `unsafeQueryExtensionsAfter` must be true or false');
  }
  const migratingScopes = checkedModels(
    schema,
    options.migratingScopes,
    (model) => model.scopeField !== undefined,
    'fieldEncryption: `migratingScopes` must list models of the schema that have a scope (@encryption(scope: ...))',
  );
  const migratingBindings = checkedModels(
    schema,
    options.migratingBindings,
    bindingMayBeMissing,
    'fieldEncryption: `migratingBindings` must list models of the schema with @encryption(bind: ...), or bound ' +
      'to an id that is a foreign key (any other model bound to its id has held bound values from its first write)',
  );
  if (options.omit !== undefined && !isPlainObject(options.omit)) {
    throw new ConfigError("fieldEncryption: `omit` must be the client's omit option (`{ user: { field: true } }`)");
  }
  const extension = Prisma.defineExtension((client) => {
    const base = client as unknown as AnyClient;
    // Applied twice, every value would be sealed twice, and a client extended once would read
    // the inner envelope as the value.
    if (base.$hushfield !== undefined) {
      throw new ConfigError(
        'fieldEncryption: the client is already extended with hushfield; apply fieldEncryption once, ' +
          'to the base PrismaClient (query extensions before it; result and model extensions on either side)',
      );
    }
    const crypto = options.crypto ?? createCrypto(options, base);
    // A crypto shared with another client: its key store joins this client's transactions too.
    cryptoOwners.get(crypto)?.add(base);
    const view = new SchemaView(schema, {
      migratingScopes,
      migratingBindings,
      clientOmit: options.omit ?? clientOmitOf(base),
    });
    const decryptor = new ResultDecryptor(view, crypto, options.onDecryptError ?? 'throw');
    const handler = new OperationHandler(view, crypto, decryptor, base);
    const baseTransaction = base.$transaction as (...args: unknown[]) => Promise<unknown>;
    const api: HushfieldClientApi = {
      crypto,
      stats: () => crypto.stats(),
      prepare: async (scopes = []) => {
        await crypto.keys.indexRootVersions();
        await crypto.prefetchScopes(scopes);
        for (const scope of scopes) (await crypto.rowEncryptor(scope)).dispose();
      },
    };
    // Interactive transactions run their callback in a context naming the transaction client,
    // so the extension's own queries (key lookups, row reads) join it. Kept out of the
    // extension's type so `$transaction` keeps Prisma's own signature.
    const transaction = {
      $transaction(this: unknown, ...args: unknown[]): Promise<unknown> {
        const self = Prisma.getExtensionContext(this);
        const [first, ...rest] = args;
        if (typeof first !== 'function') return baseTransaction.apply(self, args);
        const callback = first as (tx: AnyClient) => Promise<unknown>;
        const isolationLevel =
          (rest[0] as { isolationLevel?: unknown } | undefined)?.isolationLevel ?? defaultIsolation(base);
        let opened: TransactionScope | undefined;
        // `await` inside the context: a lazy PrismaPromise returned by the callback must run in it.
        const run = (tx: AnyClient) =>
          inTransaction(
            tx,
            base,
            crypto,
            async (scope) => {
              opened = scope;
              return await callback(tx);
            },
            typeof isolationLevel === 'string' ? isolationLevel : undefined,
          );
        return baseTransaction.apply(self, [run, ...rest]).catch((error: unknown) => {
          // A key created inside (see transaction-key-store.ts) was rolled back with it: this
          // process must not keep it cached, nor seal anything more under it.
          if (opened?.createdKeys === true) crypto.clearCaches();
          throw error;
        });
      },
    } as object;
    // A crypto this extension made is its own: closing the client zeroes its cached keys and
    // stops their expiry timers, instead of leaving both for the cache's TTL (5 minutes by
    // default). A given `crypto` may serve other clients: the caller clears it, and so does the
    // caller of one this extension made once another client was extended with it too (its
    // `$hushfield.crypto` given to a sibling), which then still uses it.
    const baseDisconnect = base.$disconnect as () => Promise<void>;
    const disconnect = options.crypto
      ? {}
      : {
          async $disconnect(this: unknown): Promise<void> {
            try {
              await baseDisconnect.apply(Prisma.getExtensionContext(this));
            } finally {
              if ((cryptoOwners.get(crypto)?.size ?? 1) <= 1) crypto.clearCaches();
            }
          },
        };
    // Query extensions must come before this one (later-extensions.ts).
    const guard =
      options.unsafeQueryExtensionsAfter === true ? {} : { $extends: guardedExtends(schema, base.$extends) };
    return client.$extends({
      name: 'hushfield',
      client: { $hushfield: api, ...transaction, ...disconnect, ...guard },
      query: {
        $allModels: {
          $allOperations: (params) => handler.handle(params as unknown as QueryParams),
        },
      },
    });
  });
  // The result types are stated, not computed: the query extension is what returns null.
  return extension as unknown as HushfieldExtension<DecryptErrorResults<S, E>>;
}

/**
 * A list option naming models (`migratingScopes`, `migratingBindings`), checked against the schema.
 * @param takes - whether a model of the schema may be listed
 * @throws ConfigError with `problem` when it is not a list of such models
 */
function checkedModels(
  schema: HushfieldSchema,
  models: unknown,
  takes: (model: ModelMeta) => boolean,
  problem: string,
): readonly string[] {
  if (models === undefined) return [];
  const valid =
    Array.isArray(models) &&
    models.every(
      (name) => typeof name === 'string' && Object.hasOwn(schema.models, name) && takes(schema.models[name]),
    );
  if (!valid) throw new ConfigError(problem);
  return models as string[];
}

/**
 * Whether `value` is a `FieldCrypto`: by its methods, so that one made by another copy of
 * `@hushfield/core` (a CLI's, say) is taken too.
 */
function isFieldCrypto(value: unknown): value is FieldCrypto {
  const crypto = value as Partial<FieldCrypto> | null;
  return (
    typeof crypto === 'object' &&
    crypto !== null &&
    typeof crypto.decryptMany === 'function' &&
    typeof crypto.rowEncryptor === 'function' &&
    typeof crypto.stats === 'function'
  );
}

/** The clients whose interactive transactions the key store of a crypto the extension made joins. */
const cryptoOwners = new WeakMap<FieldCrypto, Set<AnyClient>>();

/** The `FieldCrypto` options {@link fieldEncryption} is given, but for the key store. */
function cryptoOptions(
  options: FieldEncryptionOptions,
): Omit<FieldCryptoOptions, 'keyStore'> & { keyStore?: KeyStore } {
  return {
    keyring: options.keyring as Keyring,
    keyStore: options.keyStore,
    // Left out, the default; `null` is no setting and is refused with the other bad values.
    cache: options.cache === undefined ? DEFAULT_CACHE : options.cache,
    audit: options.audit,
    actor: options.actor,
    auditDecrypts: options.auditDecrypts,
    unicodeMismatch: options.unicodeMismatch,
    parallelDecrypt: options.parallelDecrypt,
  };
}

function createCrypto(options: FieldEncryptionOptions, base: AnyClient): FieldCrypto {
  const owners = new Set<AnyClient>([base]);
  const given = options.keyStore;
  // The key store skips the application's query extensions (written for its own models, a
  // `$allModels` tenant filter would fail on the key-store model): it queries the root client.
  const root = unextendedClient(base)?.client ?? base;
  // A PrismaKeyStore over this very client (or its root), given explicitly, is the default
  // store and joins its transactions too (else a lookup in one would wait for it on a single
  // connection).
  const model =
    given === undefined
      ? options.schema.keyStoreModel
      : given instanceof PrismaKeyStore && (given.isOver(base) || given.isOver(root))
        ? given.model
        : undefined;
  const keyStore =
    model === undefined
      ? (given as KeyStore)
      : new TransactionKeyStore(
          // The limits the given store was made with (maxWaitMs, timeoutMs) are kept.
          new PrismaKeyStore(root, { model, ...(given instanceof PrismaKeyStore ? given.limits : {}) }),
          owners,
          model,
          options.singleConnection ?? isSingleConnection(base),
          snapshotByDefault(base),
          // The transactions it joins are those a client of this crypto opened (see cryptoOwners).
          (opener) => cryptoOwners.get(opener as FieldCrypto) === owners,
        );
  const crypto = new FieldCrypto({ ...cryptoOptions(options), keyStore });
  cryptoOwners.set(crypto, owners);
  return crypto;
}
