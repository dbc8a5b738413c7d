/**
 * `hushfield keys list | create | rotate | rewrap | shred`: the key lifecycle, through core's
 * `KeyHierarchy` (which audits every event). Never prints wrapped or unwrapped key material.
 */
import { DEFAULT_INDEX_VERSIONS_TTL_MS, InvalidArgumentError } from '@hushfield/core';
import type { FieldCrypto, KeyKind, KeyState, StoredKey } from '@hushfield/core';
import { canonicalUuid, type ModelMeta } from '@hushfield/prisma';
import type { CommandContext } from '../context';
import { ExitCode } from '../exit-codes';
import type { ExitCodeValue } from '../exit-codes';
import { resolveKeyringSource } from '../keyring-source';
import { messages } from '../messages';
import { confirmTyped } from '../prompt';
import { delegateOf, walkBatches } from '../walker';
import { assertRowKeys, rowKeyOf } from '../row-key';
import { classifyStored, describeStored } from '../value-context';

/** A stored key as the CLI shows it (no wrapped material). */
export interface KeyView {
  kind: KeyKind;
  scope: string;
  keyId: string;
  version: number;
  state: KeyState;
  keyringId: string;
  createdAt: string;
}

function view(key: StoredKey): KeyView {
  return {
    kind: key.kind,
    scope: key.scope,
    keyId: key.keyId,
    version: key.version,
    state: key.state,
    keyringId: key.keyringId,
    createdAt: key.createdAt.toISOString(),
  };
}

/** The columns of `keys list`, as printed: header and cell of each. */
const COLUMNS: readonly [string, (key: KeyView) => string][] = [
  ['kind', (key) => key.kind],
  ['scope', (key) => key.scope],
  ['ver', (key) => `v${key.version}`],
  ['state', (key) => key.state],
  ['key id', (key) => key.keyId],
  ['keyring', (key) => key.keyringId],
  ['created', (key) => key.createdAt],
];

/**
 * `keys` as aligned lines, each column as wide as its widest cell (a uuid scope is 36
 * characters, a KMS keyring id longer still), the header first when `header` is set.
 */
function table(keys: readonly KeyView[], header = true): string[] {
  const rows = keys.map((key) => COLUMNS.map(([, cell]) => cell(key)));
  if (header) rows.unshift(COLUMNS.map(([name]) => name));
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  '));
}

function line(key: KeyView): string {
  return table([key], false)[0];
}

const KEY_STATES: readonly KeyState[] = ['active', 'pending', 'retired', 'destroyed'];

/** `keys list [--scope S] [--kind K] [--state S]`. */
export async function keysList(
  ctx: CommandContext,
  options: { scope?: string; kind?: string; state?: string },
): Promise<ExitCodeValue> {
  if (options.kind && options.kind !== 'scope' && options.kind !== 'index') {
    throw new InvalidArgumentError(messages.keys.badKind(), 'kind');
  }
  if (options.state && !(KEY_STATES as readonly string[]).includes(options.state)) {
    throw new InvalidArgumentError(messages.keys.badState(), 'state');
  }
  const keys = (
    await (
      await ctx.keyStore()
    ).list({
      ...(options.scope ? { scope: options.scope } : {}),
      ...(options.kind ? { kind: options.kind as KeyKind } : {}),
      ...(options.state ? { state: options.state as KeyState } : {}),
    })
  ).map(view);
  ctx.out.result({ command: 'keys list', keys }, () => (keys.length === 0 ? [messages.keys.none()] : table(keys)));
  return ExitCode.Ok;
}

/** `keys create --scope S`. */
export async function keysCreate(ctx: CommandContext, options: { scope: string }): Promise<ExitCodeValue> {
  const key = view(await (await ctx.crypto()).keys.createScope(options.scope));
  ctx.out.result({ command: 'keys create', key }, () => [messages.keys.created(line(key))]);
  return ExitCode.Ok;
}

/**
 * How long `keys rotate --index` leaves a new index root version pending by default: the longest
 * time a process may go without reading the live versions again (core's default
 * `indexVersionsTtlMs`, or the config's when longer), and a second for a read in flight.
 */
export function defaultIndexWaitMs(ctx: CommandContext): number {
  const configured = ctx.loaded.config.cache?.indexVersionsTtlMs ?? 0;
  return Math.max(DEFAULT_INDEX_VERSIONS_TTL_MS, configured) + 1_000;
}

/**
 * `keys rotate --index`: publishes a new index root version as pending (or takes the one an
 * interrupted run left pending), waits `waitMs` so that every process matches it, then makes it
 * the version written; with a key store that has no pending state (no `addPending` and
 * `promote`), rotates in one step and warns. @returns the promoted version
 */
async function rotateIndex(ctx: CommandContext, crypto: FieldCrypto, waitMs: number): Promise<StoredKey> {
  const store = await ctx.keyStore();
  if (typeof store.addPending !== 'function' || typeof store.promote !== 'function') {
    // A key store written before the pending state: rotated in one step, as before, and said so.
    ctx.out.warn(messages.keys.noPendingState());
    return crypto.keys.rotateIndexKey();
  }
  const published = await crypto.keys.publishIndexKey();
  if (published.state !== 'pending') return published;
  ctx.out.info(messages.keys.indexPending(published.version, waitMs));
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  return crypto.keys.promoteIndexKey();
}

/**
 * `keys rotate --scope S | --all | --index [--wait ms]`: an index root version is published as
 * pending and promoted after the wait (by default {@link defaultIndexWaitMs}); scope keys too
 * when `--wait` is given, else in one step.
 */
export async function keysRotate(
  ctx: CommandContext,
  options: { scope?: string; all?: boolean; index?: boolean; waitMs?: number },
): Promise<ExitCodeValue> {
  const chosen = [options.scope !== undefined, Boolean(options.all), Boolean(options.index)].filter(Boolean).length;
  if (chosen !== 1) throw new InvalidArgumentError(messages.keys.rotateTarget(), 'scope');
  const crypto = await ctx.crypto();
  const rotated: KeyView[] = [];
  const failed: { scope: string; code: string; message: string }[] = [];
  /** Runs `step` for each scope: a failure stops `--scope`, and is reported per scope with `--all`. */
  const eachScope = async (scopes: readonly string[], step: (scope: string) => Promise<void>) => {
    for (const scope of scopes) {
      try {
        await step(scope);
      } catch (error) {
        if (!options.all) throw error;
        failed.push({ scope, code: (error as { code?: string }).code ?? 'UNKNOWN', message: (error as Error).message });
      }
    }
  };
  if (options.index) rotated.push(view(await rotateIndex(ctx, crypto, options.waitMs ?? defaultIndexWaitMs(ctx))));
  else {
    const scopes = options.all
      ? [...new Set((await crypto.keys.list({ kind: 'scope', state: 'active' })).map((key) => key.scope))]
      : [options.scope as string];
    if (options.waitMs === undefined) {
      await eachScope(scopes, async (scope) => void rotated.push(view(await crypto.keys.rotateScope(scope))));
    } else {
      // Every scope's new version pending at once, one wait, then each promoted.
      const published: string[] = [];
      await eachScope(scopes, async (scope) => {
        await crypto.keys.publishScope(scope);
        published.push(scope);
      });
      if (published.length > 0) {
        ctx.out.info(messages.keys.scopesPending(published.length, options.waitMs));
        await new Promise((resolve) => setTimeout(resolve, options.waitMs));
      }
      await eachScope(published, async (scope) => void rotated.push(view(await crypto.keys.promoteScope(scope))));
    }
  }
  ctx.out.result({ command: 'keys rotate', rotated, failed }, () => [
    ...table(rotated, false).map((row) => messages.keys.rotated(row)),
    ...failed.map((entry) => messages.keys.rotateFailed(entry.scope, entry.message, entry.code)),
    rotated.length > 0 ? messages.keys.rotatedNext() : messages.keys.nothingRotated(),
  ]);
  if (failed.length === 0) return ExitCode.Ok;
  return rotated.length > 0 ? ExitCode.Partial : ExitCode.Failure;
}

/** `keys rewrap --to-keyring <name|file>`. */
export async function keysRewrap(
  ctx: CommandContext,
  options: { toKeyring: string; cwd: string },
): Promise<ExitCodeValue> {
  const target = await resolveKeyringSource(options.toKeyring, ctx.loaded, options.cwd);
  const crypto = await ctx.crypto();
  const { rewrapped, skipped } = await crypto.keys.rewrap(target);
  ctx.out.result({ command: 'keys rewrap', keyringId: target.id, rewrapped, skipped }, () => [
    messages.keys.rewrapped(rewrapped, target.id, skipped),
    messages.keys.rewrapNext(),
  ]);
  return ExitCode.Ok;
}

/** `keys shred --scope S [--yes]`: crypto-shreds a scope after confirmation. */
export async function keysShred(
  ctx: CommandContext,
  options: { scope: string; yes?: boolean },
): Promise<ExitCodeValue> {
  const crypto = await ctx.crypto();
  const versions = (await crypto.keys.list({ kind: 'scope', scope: options.scope })).filter(
    (key) => key.state !== 'destroyed',
  );
  if (versions.length === 0) throw new InvalidArgumentError(messages.keys.noLiveKeys(options.scope), 'scope');
  const io = ctx.out.streams;
  if (!options.yes) {
    if (!io.stdinIsTTY) throw new InvalidArgumentError(messages.keys.shredNeedsYes(), 'yes');
    const rows = await countRowsUnder(ctx, crypto, options.scope, new Set(versions.map((key) => key.keyId)));
    ctx.out.info(messages.keys.shredWarning(versions.length, options.scope, rows.total));
    if (!(await confirmTyped(io, messages.keys.shredPrompt(options.scope), options.scope))) {
      ctx.out.info(messages.keys.shredDeclined());
      return ExitCode.Aborted;
    }
  }
  const rowsUnreadable = await countRowsUnder(ctx, crypto, options.scope, new Set(versions.map((key) => key.keyId)));
  const destroyed = await crypto.keys.destroyScope(options.scope);
  ctx.out.result({ command: 'keys shred', scope: options.scope, versionsDestroyed: destroyed, rowsUnreadable }, () => [
    messages.keys.shredded(options.scope, destroyed, rowsUnreadable.total),
  ]);
  return ExitCode.Ok;
}

/** Rows (over all models) with at least one value encrypted under one of `keyIds`. */
export async function countRowsUnder(
  ctx: CommandContext,
  crypto: FieldCrypto,
  scope: string,
  keyIds: ReadonlySet<string>,
): Promise<Record<string, number> & { total: number }> {
  const client = await ctx.client();
  const counts: Record<string, number> = {};
  let total = 0;
  const models = ctx.models().filter((model) => model.scopeField || scope === 'default');
  // Before any row is read (and so before the shred that follows the count).
  assertRowKeys(models);
  for (const model of models) {
    const where = model.scopeField ? { [model.scopeField]: scopeValue(model, scope) } : undefined;
    if (where && Object.values(where)[0] === undefined) continue;
    const fields = Object.keys(model.encrypted);
    const metas = Object.values(model.encrypted);
    let count = 0;
    for await (const rows of walkBatches(delegateOf(client, model.name), {
      keyFields: rowKeyOf(model),
      select: fields,
      batchSize: 5000,
      where,
    })) {
      for (const row of rows) {
        // Every type of sealed value: a string (or Json string) envelope, a Bytes one, a String[] list's.
        const hit = metas.some((field) => {
          const value = row[field.name];
          if (value === null || value === undefined || classifyStored(field, value, crypto) !== 'envelope')
            return false;
          return (describeStored(field, value, crypto) ?? []).some((ref) => keyIds.has(ref.keyId));
        });
        if (hit) count++;
      }
    }
    counts[model.name] = count;
    total += count;
  }
  return Object.assign(counts, { total });
}

/**
 * The scope string as a value of the model's scope field (numbers for Int fields), or
 * `undefined` when the field cannot hold it (its rows then have no values under the scope).
 */
function scopeValue(model: ModelMeta, scope: string): unknown {
  const field = model.fields[model.scopeField as string];
  // A uuid column holds only the canonical form, which is also the form keys are created under.
  if (field?.uuid === true) return canonicalUuid(scope) === scope ? scope : undefined;
  const type = field?.type;
  if (type === 'Int' || type === 'Float') return /^-?\d+(\.\d+)?$/.test(scope) ? Number(scope) : undefined;
  if (type === 'BigInt') return /^-?\d+$/.test(scope) ? BigInt(scope) : undefined;
  return scope;
}
