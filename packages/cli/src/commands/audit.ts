/**
 * `hushfield audit`: lists the durable audit log (the `HushfieldAuditEvent` model written by
 * `PrismaAuditSink`) by scope, actor, operation and time, newest first. "Who read tenant X's
 * data last week": `hushfield audit --scope X --since 7d`.
 */
import { InvalidArgumentError } from '@hushfield/core';
import type { AuditOperation } from '@hushfield/core';
import { listAuditEvents } from '@hushfield/prisma';
import type { StoredAuditEvent } from '@hushfield/prisma';
import type { CommandContext } from '../context';
import { ExitCode } from '../exit-codes';
import type { ExitCodeValue } from '../exit-codes';
import { messages } from '../messages';

/** Options of `hushfield audit`. */
export interface AuditOptions {
  readonly scope?: string;
  readonly actor?: string;
  readonly since?: string;
  readonly until?: string;
  readonly operation?: string;
  readonly limit: number;
  /** Prisma model name of the audit log; default `HushfieldAuditEvent`. */
  readonly model?: string;
  /** Now, for relative times (tests). */
  readonly now?: Date;
}

const OPERATIONS: readonly AuditOperation[] = [
  'keyring.wrap',
  'keyring.unwrap',
  'keyring.generate',
  'key.create',
  'key.rotate',
  'key.rewrap',
  'key.destroy',
  'value.decrypt',
];
const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000 };

/** An ISO 8601 date/time, or `<n>d|h|m` meaning that long before `now`. */
export function parseTime(text: string | undefined, option: string, now: Date): Date | undefined {
  if (text === undefined) return undefined;
  const relative = /^(\d{1,6})([dhm])$/.exec(text);
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNIT_MS[relative[2]]);
  const date = /^\d{4}-\d{2}-\d{2}/.test(text) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError(messages.audit.badTime(option), option.slice(2));
  return date;
}

function describe(event: StoredAuditEvent): string {
  const parts: string[] = [];
  if (event.scope !== undefined) parts.push(`scope=${event.scope}`);
  const version = event.version === undefined ? '' : ` v${event.version}`;
  if (event.keyId !== undefined) parts.push(`key=${event.keyId}${version}`);
  if (event.errorCode !== undefined) parts.push(`error=${event.errorCode}`);
  const actor = Object.entries(event.actor ?? {})
    .map(([key, value]) => `${key}:${value}`)
    .join(',');
  if (event.actor !== undefined) parts.push(`actor=${actor}`);
  if (event.detail !== undefined) parts.push(...Object.entries(event.detail).map(([k, v]) => `${k}=${v}`));
  return parts.join('  ');
}

/** `hushfield audit [--scope S] [--actor K=V|V] [--since T] [--until T] [--operation OP] [--limit N]`. */
export async function auditCommand(ctx: CommandContext, options: AuditOptions): Promise<ExitCodeValue> {
  const now = options.now ?? new Date();
  if (options.operation !== undefined && !OPERATIONS.includes(options.operation as AuditOperation)) {
    throw new InvalidArgumentError(messages.audit.badOperation(OPERATIONS), 'operation');
  }
  const keyStore = options.scope === undefined ? undefined : await ctx.keyStore();
  const keys = keyStore === undefined ? [] : await keyStore.list({ kind: 'scope', scope: options.scope });
  const events = await listAuditEvents(await ctx.client(), {
    scope: options.scope,
    scopeKeyIds: [...new Set(keys.map((key) => key.keyId))],
    actor: options.actor,
    operation: options.operation as AuditOperation | undefined,
    since: parseTime(options.since, '--since', now),
    until: parseTime(options.until, '--until', now),
    limit: options.limit,
    model: options.model,
  });
  ctx.out.result({ command: 'audit', events }, () => {
    if (events.length === 0) return [messages.audit.none()];
    const lines = events.map((event) =>
      messages.audit.row(event.time.toISOString(), event.operation, event.outcome, describe(event)),
    );
    return events.length === options.limit ? [...lines, messages.audit.limited(options.limit)] : lines;
  });
  return ExitCode.Ok;
}
