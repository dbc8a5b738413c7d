/**
 * Messages of `status` and `doctor`: counts by field, index and key version, keyring and key
 * store health, and one message per `doctor` check. Part of the CLI's catalog (`messages.ts`),
 * under its rule: nothing secret is ever passed in.
 */
import type { BucketReport } from './commands/index-buckets';
import type { FieldStatus, IndexStatus, MatchIndexStatus, ModelStatus } from './commands/status';
import type { KeyStoreSummary, KeyringHealth } from './health';

/**
 * Values of a model sealed under another scope's key than their row's, as `status --verify` and
 * `doctor` report them: what can put them there, and what moves them when it was a scope change.
 */
function otherScopeHint(model: string, count: number): string {
  return (
    `${model}: ${count} value(s) sealed under another scope's key than their row's: copied from another ` +
    "scope's row, or the row's scope column was changed outside the extension; if the model's " +
    `@encryption(scope: ...) was added or changed, \`hushfield reencrypt --model ${model} --rescope\` moves them ` +
    "to their rows' scopes"
  );
}

/**
 * Values of a model with `@encryption(bind: ...)`, or bound to an id that is a foreign key, that
 * open only without the binding, as `status --verify` and `doctor` report them, and what binds them.
 */
function unboundHint(model: string, count: number): string {
  return (
    `${model}: ${count} value(s) sealed without the binding (before the model's @encryption(bind: ...) was ` +
    'added, or, for an id that is a foreign key, created under the related row before hushfield bound that id); ' +
    `\`hushfield reencrypt --model ${model} --rebind\` seals them again, bound to their rows`
  );
}

/** A check's level as `doctor` prints it, padded so that the check names line up. */
/**
 * The fix for a column whose collation compares loosely: on MySQL `use <mysql>`; on SQLite,
 * which cannot alter a column, a rebuilt table that declares it without its COLLATE clause.
 */
function binaryCollation(provider: string, mysql: string): string {
  return provider === 'sqlite'
    ? 'declare the column without its COLLATE clause (SQLite then compares BINARY), rebuilding the table'
    : `use ${mysql}`;
}

const LEVEL_LABELS = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' } as const;

/** Messages of `status` and `doctor`, by command. */
export const healthMessages = {
  /** `status` (`commands/status.ts`, `commands/index-buckets.ts`, `health.ts`). */
  status: {
    model: (model: Pick<ModelStatus, 'model' | 'rows' | 'rowsDestroyed'>) =>
      `${model.model}: ${model.rows} rows` +
      `${model.rowsDestroyed ? `, ${model.rowsDestroyed} under destroyed scopes` : ''}`,
    /** One encrypted field's counts (the unreadable count only with `--verify`). */
    field: (field: FieldStatus) => {
      const parts = [
        `${field.current} current`,
        field.retired ? `${field.retired} on retired key versions` : '',
        field.destroyed ? `${field.destroyed} destroyed` : '',
        field.unknownKey ? `${field.unknownKey} unknown key` : '',
        field.plaintext ? `${field.plaintext} plaintext` : '',
        field.pfe ? `${field.pfe} prisma-field-encryption` : '',
        field.malformed ? `${field.malformed} malformed` : '',
        `${field.nulls} null`,
        field.unreadable ? `${Object.values(field.unreadable).reduce((a, b) => a + b, 0)} unreadable` : '',
        field.otherScope ? `${field.otherScope} under another scope's key than their row's` : '',
        field.unbound ? `${field.unbound} sealed before the binding` : '',
      ].filter(Boolean);
      return `  ${field.field} (${field.mode}): ${parts.join(', ')}`;
    },
    scopeVersion: (scope: string, version: number, state: string, count: number) =>
      `    scope ${scope} v${version} (${state}): ${count}`,
    manyScopes: (scopes: number) => `    ${scopes}+ scopes (see --json)`,
    matchIndex: (index: MatchIndexStatus) => {
      const versions = Object.entries(index.versions)
        .map(([version, count]) => (version === 'empty' ? `no n-gram: ${count}` : `v${version}: ${count}`))
        .join(', ');
      return (
        `  ${index.index} (match index of ${index.source}): ${versions || 'empty'}` +
        `${index.missing ? `, ${index.missing} missing` : ''}` +
        `${index.otherParameters ? `, ${index.otherParameters} under other parameters (run reencrypt)` : ''}`
      );
    },
    index: (index: IndexStatus) => {
      const versions = Object.entries(index.versions)
        .map(([version, count]) => `${/^[0-9]/.test(version) ? 'v' : ''}${version}: ${count}`)
        .join(', ');
      const { shared, perScope } = index.keyed;
      // Per-scope values, or a schema that wants them: how far `reencrypt` has moved the index.
      const keyed =
        index.perScope || perScope > 0
          ? `; ${shared} shared, ${perScope} per scope (schema: ${index.perScope ? 'per scope' : 'shared'})`
          : '';
      return (
        `  ${index.index} (index of ${index.source}): ${versions || 'empty'}` +
        `${index.missing ? `, ${index.missing} missing` : ''}${index.stale ? `, ${index.stale} stale` : ''}${keyed}`
      );
    },
    /** A truncated blind index's bucket sizes (counts only). */
    buckets: (report: BucketReport) => {
      if (report.values === 0) return `    buckets (${report.bits} bits): no values`;
      const alone = Math.round((report.singletons / report.values) * 100);
      const expected = report.expected !== undefined ? `, expected ${report.expected} values` : '';
      return (
        `    buckets (${report.bits} bits${expected}): ` +
        `${report.values} values in ${report.buckets} buckets; ` +
        `per bucket min ${report.min}, median ${report.median}, ` +
        `mean ${report.mean}, max ${report.max} (skew ${report.skew}); ${report.singletons} values alone in their ` +
        `bucket (${alone}%)`
      );
    },
    keyStore: (summary: Pick<KeyStoreSummary, 'scopes' | 'byState'>) => {
      const states = Object.entries(summary.byState)
        .map(([state, count]) => `${count} ${state}`)
        .join(', ');
      return `key store: ${summary.scopes} scopes; ${states || 'no keys'}`;
    },
    keyring: (health: KeyringHealth) =>
      health.ok
        ? `keyring ${health.keyringId}: ok (round trip ${health.latencyMs} ms)`
        : `keyring ${health.keyringId}: FAILED ${health.error?.message} [${health.error?.code}]`,
    /** The keyring round trip got back other bytes than it wrapped. */
    roundTripMismatch: () => 'unwrapped bytes differ from the wrapped ones',
    /** `count` values of `model` sealed under another scope's key than their row's (`--verify`). */
    otherScope: (model: string, count: number) => otherScopeHint(model, count),
    /** `count` values of `model` that open only without its binding (`--verify`). */
    unbound: (model: string, count: number) => unboundHint(model, count),
    staleIndexes: (stale: number) =>
      `verify: ${stale} blind-index value(s) that a lookup of their own row's value does not find (left from an ` +
      'earlier value, or made under another normalize or bits); rotate the index key (keys rotate --index) and ' +
      'run reencrypt to rebuild them; exit 3',
    verified: (unreadable: number) =>
      unreadable === 0
        ? 'verify: every value is readable (values under destroyed scopes aside)'
        : `verify: ${unreadable} value(s) the application cannot read (failed to decrypt, malformed, unknown key, ` +
          'not imported, or plaintext in a strict field); exit 3',
  },

  /** `doctor`: one message per check outcome (`commands/doctor.ts`, `tls-probe.ts`). */
  doctor: {
    line: (level: keyof typeof LEVEL_LABELS, check: string, message: string) =>
      `${LEVEL_LABELS[level]}  ${check}: ${message}`,
    outcome: (failed: boolean) => (failed ? 'doctor: some checks failed' : 'doctor: no failures'),
    databaseReachable: () => 'database reachable',
    databaseUnreachable: (reason: string, hint: string | undefined) =>
      `database unreachable: ${reason}${hint ? `; ${hint}` : ''}`,
    keyringOk: (keyringId: string, latencyMs: number) => `keyring ${keyringId} round trip ok (${latencyMs} ms)`,
    keyringFailed: (keyringId: string, reason: string | undefined) =>
      `keyring ${keyringId} round trip failed: ${reason}`,
    memberOk: (keyringId: string, latencyMs: number) => `member ${keyringId} round trip ok (${latencyMs} ms)`,
    memberFailed: (keyringId: string, reason: string | undefined) =>
      `member ${keyringId} round trip failed: ${reason} (reads fall back to the other members; its copies cannot recover keys)`,
    namedOk: (name: string, keyringId: string, latencyMs: number) =>
      `keyrings.${name} (${keyringId}) round trip ok (${latencyMs} ms)`,
    namedFailed: (name: string, reason: string | undefined) =>
      `keyrings.${name} round trip failed: ${reason} (keys rewrap --to-keyring ${name} would fail)`,
    tlsUnknown: () => 'this database does not report TLS state',
    tlsOn: (version: string | null, cipher: string | null, bits: number | null) =>
      `connection uses TLS (${[version, cipher, bits === null ? null : `${bits} bits`].filter(Boolean).join(', ')})`,
    tlsOff: () =>
      'connection does NOT use TLS: values travel encrypted, but blind indexes, ids and queries are visible ' +
      'on the network',
    tlsUnavailable: (reason: string) => `TLS state unavailable: ${reason}`,
    tlsNotApplicable: () => 'TLS does not apply: SQLite is a file on this host, not a network connection',
    noTcpUrl: () => 'no TCP database URL (--url, config databaseUrl or DATABASE_URL) to read the certificate from',
    noTlsOffered: (host: string, port: number) => `${host}:${port} does not offer TLS`,
    /** `certificate <subject>[ (self-signed)]`, the start of every certificate message. */
    certificate: (subject: string, selfSigned: boolean) =>
      `certificate ${subject || '(no subject)'}${selfSigned ? ' (self-signed)' : ''}`,
    certificateExpired: (what: string, validTo: string) => `${what} EXPIRED on ${validTo}`,
    certificateExpiring: (what: string, daysLeft: number, threshold: number | undefined, validTo: string) =>
      `${what} expires in ${daysLeft} days (under ${threshold}) on ${validTo}`,
    certificateValid: (what: string, daysLeft: number, protocol: string | null, cipher: string | null) =>
      `${what} valid for ${daysLeft} more days (${protocol}, ${cipher})`,
    certificateUnreadable: (host: string, port: number, reason: string) =>
      `could not read the certificate of ${host}:${port}: ${reason}`,
    probeTimeout: (host: string, port: number, timeoutMs: number) =>
      `TLS probe of ${host}:${port} timed out after ${timeoutMs} ms`,
    noCertificate: () => 'server presented no certificate',
    probeClosed: (host: string, port: number) =>
      `${host}:${port} closed the connection before its certificate was read`,
    greetingTooLong: (bytes: number) =>
      `the server's greeting announces ${bytes} bytes (a MySQL greeting is under 1 KiB)`,
    serverRefused: (text: string) => `the server refused the connection: ${text}`,
    keyStoreOk: (scopes: number, versions: number) =>
      `key store reachable: ${scopes} scope(s), ${versions} key version(s)`,
    /** Key versions wrapped by keyrings other than the configured one, with their counts. */
    foreignKeyrings: (foreign: readonly (readonly [string, number])[], keyringId: string) =>
      `${foreign.map(([id, count]) => `${count} key version(s) wrapped by ${id}`).join(', ')}; ` +
      `the configured keyring is ${keyringId} (finish \`keys rewrap\` or configure a MultiKeyring)`,
    keyStoreUnavailable: (reason: string) => `key store unavailable: ${reason}`,
    columnsFit: () => "the columns of hushfield's models have types and collations the extension can use",
    columnsUnread: (reason: string) => `could not read the database's column types: ${reason}`,
    columnsNotApplicable: () => 'this client runs no raw SQL: column types and collations not checked',
    encryptedPadded: (model: string, field: string, table: string, column: string) =>
      `${model}.${field}: ${table}.${column} is CHAR in the database, which returns a shorter value padded with ` +
      'spaces; envelopes vary in length, so no value written there decrypts: ALTER it to TEXT or VARCHAR',
    encryptedBinary: (model: string, field: string, table: string, column: string) =>
      `${model}.${field}: ${table}.${column} is BINARY in the database, which pads a shorter value with zero ` +
      'bytes; binary envelopes vary in length, so no value written there decrypts: ALTER it to VARBINARY or a BLOB',
    identityFixedLength: (model: string, field: string, table: string, column: string, mysql: boolean) =>
      `${model}.${field}: ${table}.${column} is CHAR in the database, but the schema does not declare @db.Char(n), ` +
      (mysql
        ? 'so the extension does not refuse a value ending in a space, which the column returns without it'
        : 'so the extension does not refuse a value shorter than the column, which it returns padded') +
      ' (values sealed for the value as written would not decrypt): declare @db.Char(n) and regenerate, or ALTER it to VARCHAR',
    identityCollation: (
      model: string,
      field: string,
      table: string,
      column: string,
      collation: string,
      provider: string,
    ) =>
      `${model}.${field}: ${table}.${column} compares case-insensitively (${collation}): a where that differs ` +
      "in case finds the row, but the extension takes the where's value as the scope (a connect by id, say), and " +
      `values sealed under it do not decrypt; ${binaryCollation(provider, 'utf8mb4_bin')}`,
    indexCollation: (model: string, field: string, collation: string, provider: string) =>
      `${model}.${field}: the blind-index column compares case-insensitively (${collation}): index values are ` +
      'case-sensitive, so a unique index may refuse two different ones and a lookup list rows of another value; ' +
      binaryCollation(provider, 'utf8mb4_bin'),
    keyScopeColumn: (table: string, column: string, type: string, collation: string | null, provider: string) =>
      `${table}.${column} (the key table's scope) is ${type}${collation ? ` in ${collation}` : ''}: ` +
      (type === 'char' || type === 'character'
        ? 'a fixed-length column returns scopes in another form than written; ALTER it to VARCHAR'
        : "asked for one scope's key it answers another's (a write, rotation or shred of that scope is then " +
          `refused); ${binaryCollation(provider, 'utf8mb4_0900_bin (MySQL) or utf8mb4_nopad_bin (MariaDB)')}`),
    keyScopePadded: (table: string, column: string, collation: string, provider: string) =>
      `${table}.${column} (the key table's scope) is in ${collation}, which ignores trailing spaces: scopes ` +
      '"acme" and "acme " share one key row, so asked for one\'s key it answers the other\'s (its writes, ' +
      'rotations and shreds are refused, and creating its key clashes on the unique index); ' +
      binaryCollation(provider, 'utf8mb4_0900_bin (MySQL) or utf8mb4_nopad_bin (MariaDB)'),
    notStrict: () =>
      "the session's sql_mode is not strict (no STRICT_TRANS_TABLES): the database cuts an over-long value " +
      'instead of refusing it, and a cut envelope never decrypts (the extension refuses over-long envelopes only ' +
      'for columns the schema declares a length for); enable strict mode',
    checkpointModel: () => 'HushfieldCheckpoint model present (reencrypt can resume)',
    runModels: () => 'HushfieldRun and HushfieldRange models present (reencrypt --run / --workers can scale out)',
    noRunModels: () =>
      'no HushfieldRun/HushfieldRange models: reencrypt --run and --workers need them; add them to schema.prisma ' +
      '(see the CLI README)',
    noCheckpointModel: () => 'no HushfieldCheckpoint model: reencrypt cannot checkpoint; add it to schema.prisma',
    strayEnvelopes: (model: string, field: string, envelopes: number, sampled: number) =>
      `${model}.${field} is not @encrypted in the schema, but ${envelopes} of ${sampled} sampled value(s) are ` +
      'envelopes (was its annotation removed?): the application reads them as ciphertext, its writes store ' +
      'plaintext there, and reencrypt no longer moves them off old keys; restore the annotation, and to leave ' +
      'encryption switch it to mode: readonly and run hushfield decrypt',
    strayUnread: (reason: string) => `could not sample the unencrypted fields for envelopes: ${reason}`,
    unknownKeys: (model: string, values: number) =>
      `${model}: ${values} sampled value(s) name keys the key store does not hold (wrong key store or database?)`,
    columnsMatch: (model: string, rows: number, destroyed: number) =>
      `${model}: columns match the schema metadata; sampled ${rows} row(s)` +
      `${destroyed ? `, ${destroyed} value(s) under destroyed scopes` : ''}`,
    /** `codes`: failures by error code. */
    undecryptable: (
      model: string,
      failed: number,
      sampled: number,
      codes: Readonly<Record<string, number>>,
      otherScope: number,
      unbound = 0,
    ) =>
      `${model}: ${failed} of ${sampled} sampled value(s) fail to decrypt ` +
      `(${Object.entries(codes)
        .map(([code, count]) => `${code}: ${count}`)
        .join(', ')}): ` +
      'tampered, moved, or wrapped ' +
      'under a key this keyring cannot open; `hushfield status --verify` counts them all' +
      (otherScope > 0 ? `. ${otherScopeHint(model, otherScope)}` : '') +
      (unbound > 0 ? `. ${unboundHint(model, unbound)}` : ''),
    columnsUnreadable: (model: string, reason: string) =>
      `${model}: cannot read its encrypted columns (${reason}); regenerate the client and metadata`,
    noIndexKey: () =>
      'the schema has blind indexes but the key store has no active index key yet (created on first use)',
  },
} as const;
