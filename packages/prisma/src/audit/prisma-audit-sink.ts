/**
 * The durable audit log on a Prisma model (`HushfieldAuditEvent`, see the README): a
 * `BatchingAuditSink` whose writes are `createMany` calls, so auditing never blocks or fails a
 * read (bounded queue, drops counted in `dropped` and metric `hushfield.audit.dropped`), and
 * `listAuditEvents`, the query behind `hushfield audit`.
 */
import { BatchingAuditSink, checkOptionsObject, ConfigError, InvalidArgumentError } from '@hushfield/core';
import type { AuditEvent, AuditOperation, BatchingAuditSinkOptions } from '@hushfield/core';
import { messages } from './messages';
import { type AnyClient } from '../extension/transaction-context';
import { unextendedClient } from '../extension/unextended-client';

/** Options of {@link PrismaAuditSink}. */
export interface PrismaAuditSinkOptions extends BatchingAuditSinkOptions {
  /** Prisma model name of the audit log; default `HushfieldAuditEvent`. */
  readonly model?: string;
}

/** One stored row (the model's fields). */
interface AuditRow {
  id: bigint | number;
  time: Date;
  operation: string;
  outcome: string;
  keyId: string | null;
  kind: string | null;
  scope: string | null;
  version: number | null;
  keyringId: string | null;
  latencyMs: number | null;
  errorCode: string | null;
  actor: unknown;
  detail: unknown;
}

interface AuditDelegate {
  createMany(args: { data: object[] }): Promise<unknown>;
  findMany(args: object): Promise<AuditRow[]>;
}

function delegateOf(client: unknown, model: string): AuditDelegate {
  if (typeof model !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(model)) {
    throw new InvalidArgumentError(messages.invalidArgument('options.model', 'must be a model name'), 'options.model');
  }
  const name = model[0].toLowerCase() + model.slice(1);
  // The app's query extensions (a tenant filter on `$allModels`) are written for its own models,
  // not this one: the log is written and read on the client they extend.
  const root =
    typeof client === 'object' && client !== null ? unextendedClient(client as AnyClient)?.client : undefined;
  const delegate = ((root ?? client) as Record<string, unknown> | null)?.[name] as Partial<AuditDelegate> | undefined;
  if (typeof delegate?.createMany !== 'function' || typeof delegate.findMany !== 'function') {
    throw new ConfigError(messages.noModel(model));
  }
  return delegate as AuditDelegate;
}

function toRow(event: AuditEvent): object {
  return {
    time: event.time,
    operation: event.operation,
    outcome: event.outcome,
    keyId: event.keyId ?? null,
    kind: event.kind ?? null,
    scope: event.scope ?? null,
    version: event.version ?? null,
    keyringId: event.keyringId ?? null,
    latencyMs: event.latencyMs ?? null,
    errorCode: event.errorCode ?? null,
    // Prisma writes SQL NULL for an omitted Json field.
    ...(event.actor === undefined ? {} : { actor: event.actor }),
    ...(event.detail === undefined ? {} : { detail: event.detail }),
  };
}

/**
 * Writes audit events to the `HushfieldAuditEvent` model in batches.
 * @param client a PrismaClient whose schema has the model; events are written on the client it
 *   was extended from, past its query extensions
 * @throws ConfigError when the client has no such model
 * @throws InvalidArgumentError when `options` is not an object, `options.model` not a model name,
 *   `options.name` not a string of 1 to 64 bytes, or a bound is not a positive integer
 * @example
 * const audit = new PrismaAuditSink(basePrisma);
 * const prisma = basePrisma.$extends(fieldEncryption({ schema, keyring, keyStore, audit }));
 * // close() rejects (AuditUnwrittenError, with the count) when a write hangs past closeTimeoutMs
 * process.on('beforeExit', () => audit.close().catch((error: Error) => console.error(error.message)));
 */
export class PrismaAuditSink extends BatchingAuditSink {
  constructor(client: unknown, options: PrismaAuditSinkOptions = {}) {
    checkOptionsObject(options, 'PrismaAuditSink');
    const delegate = delegateOf(client, options.model ?? 'HushfieldAuditEvent');
    super(
      async (events) => {
        await delegate.createMany({ data: events.map(toRow) });
      },
      { ...options, name: options.name ?? 'prisma' },
    );
  }
}

/** What {@link listAuditEvents} selects; every filter is optional. */
export interface AuditQuery {
  readonly scope?: string;
  /**
   * Key ids of `scope` (from the key store): events naming one of them match the scope too
   * (`value.decrypt` events name the key, not the scope).
   */
  readonly scopeKeyIds?: readonly string[];
  /** `key=value` (that actor field equals value) or `value` (any actor field equals it). */
  readonly actor?: string;
  readonly since?: Date;
  readonly until?: Date;
  readonly operation?: AuditOperation;
  /** Newest events returned at most; default 100. */
  readonly limit?: number;
  /** Prisma model name; default `HushfieldAuditEvent`. */
  readonly model?: string;
}

/** A stored audit event with its row id. */
export type StoredAuditEvent = AuditEvent & { readonly id: string };

function actorMatches(filter: string | undefined): (actor: unknown) => boolean {
  if (filter === undefined) return () => true;
  const at = filter.indexOf('=');
  const key = at > 0 ? filter.slice(0, at) : undefined;
  const value = at > 0 ? filter.slice(at + 1) : filter;
  return (actor) => {
    if (actor === null || typeof actor !== 'object') return false;
    const fields = actor as Record<string, unknown>;
    return key !== undefined ? fields[key] === value : Object.values(fields).includes(value);
  };
}

const OPTIONAL_FIELDS = [
  'keyId',
  'kind',
  'scope',
  'version',
  'keyringId',
  'latencyMs',
  'errorCode',
  'actor',
  'detail',
] as const;

function fromRow(row: AuditRow): StoredAuditEvent {
  const event: Record<string, unknown> = {
    id: String(row.id),
    time: row.time,
    operation: row.operation,
    outcome: row.outcome,
  };
  for (const field of OPTIONAL_FIELDS) {
    if (row[field] !== null && row[field] !== undefined) event[field] = row[field];
  }
  return event as unknown as StoredAuditEvent;
}

const PAGE = 500;

function scopeWhere(scope: string, keyIds: readonly string[]): object {
  return keyIds.length === 0 ? { scope } : { OR: [{ scope }, { keyId: { in: [...keyIds] } }] };
}

/**
 * The newest audit events matching `query`, newest first. Scope, time and operation are
 * filtered by the database; the actor (a JSON object) is matched here, page by page, so it
 * works on every provider.
 * @throws ConfigError when the client has no audit model
 */
export async function listAuditEvents(client: unknown, query: AuditQuery = {}): Promise<StoredAuditEvent[]> {
  const delegate = delegateOf(client, query.model ?? 'HushfieldAuditEvent');
  const limit = query.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(messages.invalidArgument('limit', 'must be a positive integer'), 'limit');
  }
  const time = { ...(query.since ? { gte: query.since } : {}), ...(query.until ? { lt: query.until } : {}) };
  const where = {
    ...(query.scope === undefined ? {} : scopeWhere(query.scope, query.scopeKeyIds ?? [])),
    ...(query.operation === undefined ? {} : { operation: query.operation }),
    ...(Object.keys(time).length === 0 ? {} : { time }),
  };
  const matches = actorMatches(query.actor);
  const out: StoredAuditEvent[] = [];
  let cursor: bigint | number | undefined;
  for (;;) {
    const take = query.actor === undefined ? Math.min(PAGE, limit - out.length) : PAGE;
    const rows = await delegate.findMany({
      where,
      orderBy: [{ time: 'desc' }, { id: 'desc' }],
      take,
      ...(cursor === undefined ? {} : { cursor: { id: cursor }, skip: 1 }),
    });
    for (const row of rows) {
      if (matches(row.actor)) out.push(fromRow(row));
      if (out.length >= limit) return out;
    }
    if (rows.length < take) return out;
    cursor = rows[rows.length - 1].id;
  }
}
