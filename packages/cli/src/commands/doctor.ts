/**
 * `hushfield doctor`: checks the deployment. Database reachable; TLS on the application's
 * own connection (PostgreSQL `pg_stat_ssl`, MySQL/MariaDB `Ssl_%` session status: protocol,
 * cipher; SQLite is a file, where TLS does not apply); the server certificate's expiry (warning
 * at 30/14/7 days, failure once expired); with `--require-tls`, TLS off is a failure; keyring
 * round trip; key store reachable and wrapped by the configured keyring; schema metadata
 * agreeing with the database and the key store (columns exist, sampled envelopes name keys
 * the store holds and decrypt, checkpoint model present, no envelopes in a field the schema does
 * not encrypt). An unreadable sampled value fails the check: tampering shows up here, and in
 * full with `status --verify`.
 */
import type { Keyring, StoredKey } from '@hushfield/core';
import { ConfigError } from '@hushfield/core';
import { resolveLazy } from '../config';
import type { CommandContext } from '../context';
import { ExitCode } from '../exit-codes';
import type { ExitCodeValue } from '../exit-codes';
import { keyStoreSummary, keyringRoundTrip } from '../health';
import { type DatabaseColumns, judgeColumns, readColumns } from '../column-checks';
import { missingUrlHint } from '../env-file';
import { messages } from '../messages';
import { describeError, isHushfieldError } from '../output';
import { classifyExpiry, connectionTls, probeServerCertificate, tcpTarget } from '../tls-probe';
import { mysqlTarget, probeMysqlCertificate } from '../tls-probe-mysql';
import { bindingMayBeMissing, rowScope, typedItems } from '@hushfield/prisma';
import { classifyStored, contextColumns, describeStored, fieldContext, isOtherScope } from '../value-context';
import { delegateOf } from '../walker';
import { rowKeyOf } from '../row-key';
import { opensUnbound, valueFailures, type ValueItems } from '../verify-values';
import { findStrayEnvelopes } from '../stray-envelopes';

/** Options of `doctor`. */
export interface DoctorOptions {
  readonly requireTls: boolean;
  /** Connection string for the certificate probe (default: config `databaseUrl`, then `DATABASE_URL`). */
  readonly url?: string;
  readonly now?: Date;
}

/** One check's outcome. */
export interface Check {
  readonly check: string;
  readonly level: 'ok' | 'warn' | 'fail' | 'skip';
  readonly message: string;
  readonly detail?: Record<string, unknown>;
}

/** Runs `doctor`. Exit 1 when any check fails, 0 otherwise (warnings included). */
export async function doctorCommand(ctx: CommandContext, options: DoctorOptions): Promise<ExitCodeValue> {
  const checks: Check[] = [];
  const add = (check: Check) => checks.push(check);
  const client = await ctx.client();
  const raw = client as unknown as { $queryRawUnsafe<T>(sql: string): Promise<T> };

  let reachable = true;
  try {
    await raw.$queryRawUnsafe('SELECT 1');
    add({ check: 'database', level: 'ok', message: messages.doctor.databaseReachable() });
  } catch (error) {
    reachable = false;
    const hint = missingUrlHint(error, ctx.loaded.envFile);
    const message = messages.doctor.databaseUnreachable(describeError(error).message, hint);
    add({ check: 'database', level: 'fail', message });
  }
  if (reachable) await tlsChecks(client, ctx, options, add);
  const keyring = await keyringRoundTrip(await ctx.keyring(), ctx.audit);
  add(
    keyring.ok
      ? { check: 'keyring', level: 'ok', message: messages.doctor.keyringOk(keyring.keyringId, keyring.latencyMs) }
      : {
          check: 'keyring',
          level: 'fail',
          message: messages.doctor.keyringFailed(keyring.keyringId, keyring.error?.message),
          detail: { ...keyring.error },
        },
  );
  await otherKeyringChecks(ctx, await ctx.keyring(), add);
  rowKeyChecks(ctx, add);
  if (reachable) await consistencyChecks(ctx, keyring.keyringId, add);
  if (reachable) await columnChecks(ctx, add);

  const failed = checks.some((check) => check.level === 'fail');
  ctx.out.result({ command: 'doctor', ok: !failed, checks }, () => [
    ...checks.map((check) => messages.doctor.line(check.level, check.check, check.message)),
    messages.doctor.outcome(failed),
  ]);
  return failed ? ExitCode.Failure : ExitCode.Ok;
}

/** Fails each model the bulk commands would refuse: no `@id` and no unique criterion to walk by (`row-key.ts`). */
function rowKeyChecks(ctx: CommandContext, add: (check: Check) => void): void {
  for (const model of ctx.models()) {
    try {
      rowKeyOf(model);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      add({ check: 'schema', level: 'fail', message: error.message, detail: { model: model.name } });
    }
  }
}

/** The database's own column types and collations against what the extension needs (`column-checks.ts`). */
async function columnChecks(ctx: CommandContext, add: (check: Check) => void): Promise<void> {
  let database: DatabaseColumns | null;
  try {
    const schemas = new Set(Object.values(ctx.schema.models).flatMap((model) => model.schema ?? []));
    database = await readColumns(await ctx.client(), [...schemas]);
  } catch (error) {
    add({ check: 'columns', level: 'warn', message: messages.doctor.columnsUnread(describeError(error).message) });
    return;
  }
  if (database === null) {
    add({ check: 'columns', level: 'skip', message: messages.doctor.columnsNotApplicable() });
    return;
  }
  const findings = judgeColumns(ctx.schema, database);
  for (const finding of findings) add({ check: 'columns', ...finding, detail: { ...finding.detail } });
  if (findings.length === 0) {
    add({ check: 'columns', level: 'ok', message: messages.doctor.columnsFit() });
  }
}

async function tlsChecks(
  client: object,
  ctx: CommandContext,
  options: DoctorOptions,
  add: (check: Check) => void,
): Promise<void> {
  let ssl = false;
  try {
    const tls = await connectionTls(client);
    if (tls === 'file') {
      add({ check: 'tls', level: 'skip', message: messages.doctor.tlsNotApplicable() });
      add({ check: 'certificate', level: 'skip', message: messages.doctor.tlsNotApplicable() });
      return;
    }
    if (!tls) add({ check: 'tls', level: 'skip', message: messages.doctor.tlsUnknown() });
    else if (tls.ssl) {
      ssl = true;
      const message = messages.doctor.tlsOn(tls.version, tls.cipher, tls.bits);
      add({ check: 'tls', level: 'ok', message, detail: { ...tls } });
    } else {
      add({
        check: 'tls',
        level: options.requireTls ? 'fail' : 'warn',
        message: messages.doctor.tlsOff(),
        detail: { ...tls },
      });
    }
  } catch (error) {
    const message = messages.doctor.tlsUnavailable(describeError(error).message);
    add({ check: 'tls', level: options.requireTls ? 'fail' : 'skip', message });
  }

  const url = options.url ?? ctx.loaded.config.databaseUrl ?? process.env.DATABASE_URL;
  const postgres = url ? tcpTarget(url) : null;
  const mysql = url && !postgres ? mysqlTarget(url) : null;
  const target = postgres ?? mysql;
  if (!target) {
    add({ check: 'certificate', level: 'skip', message: messages.doctor.noTcpUrl() });
    return;
  }
  try {
    const cert = postgres ? await probeServerCertificate(target) : await probeMysqlCertificate(target);
    if (!cert) {
      const level = ssl || options.requireTls ? 'fail' : 'skip';
      add({ check: 'certificate', level, message: messages.doctor.noTlsOffered(target.host, target.port) });
      return;
    }
    const expiry = classifyExpiry(cert.validTo, options.now);
    const detail = {
      subject: cert.subject,
      issuer: cert.issuer,
      validTo: cert.validTo.toISOString(),
      daysLeft: expiry.daysLeft,
      selfSigned: cert.selfSigned,
      protocol: cert.protocol,
      cipher: cert.cipher,
      fingerprint256: cert.fingerprint256,
    };
    const what = messages.doctor.certificate(cert.subject, cert.selfSigned);
    const validTo = cert.validTo.toISOString();
    if (expiry.level === 'fail') {
      add({ check: 'certificate', level: 'fail', message: messages.doctor.certificateExpired(what, validTo), detail });
    } else if (expiry.level === 'warn') {
      const message = messages.doctor.certificateExpiring(what, expiry.daysLeft, expiry.threshold, validTo);
      add({ check: 'certificate', level: 'warn', message, detail });
    } else {
      const message = messages.doctor.certificateValid(what, expiry.daysLeft, cert.protocol, cert.cipher);
      add({ check: 'certificate', level: 'ok', message, detail });
    }
  } catch (error) {
    const message = messages.doctor.certificateUnreadable(target.host, target.port, describeError(error).message);
    add({ check: 'certificate', level: 'warn', message });
  }
}

/**
 * Round trips through each member of a multi-keyring (a member that fails leaves the others
 * serving, but its copies can no longer recover keys) and through each named keyring of the
 * config (the targets of `keys rewrap --to-keyring`). Failures there are warnings: the
 * configured keyring's own round trip decides whether the application works.
 */
async function otherKeyringChecks(ctx: CommandContext, keyring: Keyring, add: (check: Check) => void): Promise<void> {
  const members = (keyring as { members?: unknown }).members;
  if (Array.isArray(members) && members.length > 1) {
    for (const member of members as Keyring[]) {
      const health = await keyringRoundTrip(member, ctx.audit);
      add(
        health.ok
          ? { check: 'keyring', level: 'ok', message: messages.doctor.memberOk(health.keyringId, health.latencyMs) }
          : {
              check: 'keyring',
              level: 'warn',
              message: messages.doctor.memberFailed(health.keyringId, health.error?.message),
            },
      );
    }
  }
  for (const [name, lazy] of Object.entries(ctx.loaded.config.keyrings ?? {})) {
    let named: Keyring;
    try {
      named = await resolveLazy(lazy);
    } catch (error) {
      add({
        check: 'keyring',
        level: 'warn',
        message: messages.doctor.namedFailed(name, describeError(error).message),
      });
      continue;
    }
    if (named.id === keyring.id) continue;
    const health = await keyringRoundTrip(named, ctx.audit);
    add(
      health.ok
        ? { check: 'keyring', level: 'ok', message: messages.doctor.namedOk(name, health.keyringId, health.latencyMs) }
        : { check: 'keyring', level: 'warn', message: messages.doctor.namedFailed(name, health.error?.message) },
    );
  }
}

async function consistencyChecks(ctx: CommandContext, keyringId: string, add: (check: Check) => void): Promise<void> {
  const client = await ctx.client();
  let keys: StoredKey[];
  try {
    const store = await keyStoreSummary(await ctx.keyStore());
    keys = store.keys;
    const foreign = Object.entries(store.summary.keyringIds).filter(([id]) => id !== keyringId);
    const message = messages.doctor.keyStoreOk(store.summary.scopes, keys.length);
    add({ check: 'key store', level: 'ok', message, detail: { ...store.summary } });
    if (foreign.length > 0) {
      add({ check: 'key store', level: 'warn', message: messages.doctor.foreignKeyrings(foreign, keyringId) });
    }
  } catch (error) {
    const message = messages.doctor.keyStoreUnavailable(describeError(error).message);
    add({ check: 'key store', level: 'fail', message });
    return;
  }
  const checkpoint = (client as Record<string, unknown>).hushfieldCheckpoint;
  add(
    checkpoint
      ? { check: 'schema', level: 'ok', message: messages.doctor.checkpointModel() }
      : { check: 'schema', level: 'warn', message: messages.doctor.noCheckpointModel() },
  );
  const runModels = ['hushfieldRun', 'hushfieldRange'].every((name) => (client as Record<string, unknown>)[name]);
  add(
    runModels
      ? { check: 'schema', level: 'ok', message: messages.doctor.runModels() }
      : { check: 'schema', level: 'warn', message: messages.doctor.noRunModels() },
  );
  const known = new Map(keys.map((key) => [`${key.keyId}\u0000${key.version}`, key]));
  const crypto = await ctx.crypto();
  for (const model of ctx.models()) {
    // The scope field too (a sampled value's key is checked against its row's scope, as the
    // extension reads it), and a bound field that is not the id.
    const select = Object.fromEntries(
      [
        ...model.idFields,
        ...Object.keys(model.encrypted),
        ...Object.keys(model.blindIndexes),
        ...contextColumns(model),
      ].map((field) => [field, true]),
    );
    try {
      const rows = await delegateOf(client, model.name).findMany({ select, take: 100 });
      let unknown = 0;
      let destroyed = 0;
      const toVerify: ValueItems[] = [];
      for (const row of rows) {
        for (const field of Object.values(model.encrypted)) {
          const value = row[field.name];
          if (value === null || value === undefined || classifyStored(field, value, crypto) !== 'envelope') continue;
          const named = describeStored(field, value, crypto);
          if (named === null) unknown++;
          else if (named.length > 0) {
            const key = known.get(`${named[0].keyId}\u0000${named[0].version}`);
            if (!key) unknown++;
            else if (key.state === 'destroyed') destroyed++;
            else {
              const context = fieldContext(model, field, row, rowScope(model, row));
              toVerify.push({ items: typedItems(field, value, context) });
            }
          }
        }
      }
      const {
        codes: unreadable,
        otherScope,
        unbound,
      } = await unreadableCodes(crypto, toVerify, bindingMayBeMissing(model));
      const failed = Object.values(unreadable).reduce((a, b) => a + b, 0);
      if (unknown > 0) {
        add({ check: 'schema', level: 'fail', message: messages.doctor.unknownKeys(model.name, unknown) });
      } else if (failed === 0) {
        const message = messages.doctor.columnsMatch(model.name, rows.length, destroyed);
        add({ check: 'schema', level: 'ok', message });
      }
      if (failed > 0) {
        add({
          check: 'values',
          level: 'fail',
          message: messages.doctor.undecryptable(model.name, failed, toVerify.length, unreadable, otherScope, unbound),
          detail: {
            model: model.name,
            sampled: toVerify.length,
            unreadable,
            ...(otherScope > 0 ? { otherScope } : {}),
            ...(unbound > 0 ? { unbound } : {}),
          },
        });
      }
    } catch (error) {
      const message = messages.doctor.columnsUnreadable(model.name, describeError(error).message);
      add({ check: 'schema', level: 'fail', message });
    }
  }
  // Per-scope indexes are keyed by scope keys (while migrating, the shared values still need it).
  const needsIndex = ctx
    .models()
    .some((model) => Object.values(model.blindIndexes).some((index) => index.perScope !== true));
  if (needsIndex && !keys.some((key) => key.kind === 'index' && key.state === 'active')) {
    add({ check: 'schema', level: 'warn', message: messages.doctor.noIndexKey() });
  }
  try {
    for (const stray of await findStrayEnvelopes(client, ctx.schema, crypto)) {
      const message = messages.doctor.strayEnvelopes(stray.model, stray.field, stray.envelopes, stray.sampled);
      add({ check: 'schema', level: 'fail', message, detail: { ...stray } });
    }
  } catch (error) {
    add({ check: 'schema', level: 'warn', message: messages.doctor.strayUnread(describeError(error).message) });
  }
}

/**
 * Decrypts the sampled values and counts the unreadable ones by error code (a list's value
 * once, by its first failing element), and those sealed under another scope's key than their
 * row's (no plaintext is kept).
 */
async function unreadableCodes(
  crypto: Awaited<ReturnType<CommandContext['crypto']>>,
  values: readonly ValueItems[],
  bindsField: boolean,
): Promise<{ codes: Record<string, number>; otherScope: number; unbound: number }> {
  const codes: Record<string, number> = {};
  let otherScope = 0;
  const retry: ValueItems[] = [];
  (await valueFailures(crypto, values)).forEach((failed, i) => {
    if (failed === undefined) return;
    const code = isHushfieldError(failed) ? failed.code : 'UNKNOWN';
    codes[code] = (codes[code] ?? 0) + 1;
    if (isOtherScope(failed)) otherScope++;
    else if (bindsField && isHushfieldError(failed)) retry.push(values[i]);
  });
  // A model with @encryption(bind: ...): how many of the failures open without the binding.
  const unbound = (await opensUnbound(crypto, retry)).filter(Boolean).length;
  return { codes, otherScope, unbound };
}
