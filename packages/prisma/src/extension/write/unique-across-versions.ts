/**
 * A unique constraint on a blind index (`@unique`, or a `@@unique` holding one) while several
 * key versions of the index are live (after `keys rotate --index`, or `keys rotate --scope` for
 * a per-scope index, until `reencrypt` has rebuilt it): a value written under the active
 * version differs from the same value stored under an older one, so the database's constraint
 * cannot see them as equal. Before a write of such a field (a create at any depth, an update,
 * an upsert's branch that runs), one side query (in the caller's interactive transaction when
 * there is one) looks for another row holding the values under another live version, and the
 * write is refused as plain Prisma refuses a duplicate (P2002); a `createMany` with
 * `skipDuplicates` drops such rows instead. With one live version (the usual case) nothing is
 * queried.
 */
import { Prisma } from '@prisma/client/extension';
import { PrismaClientKnownRequestError } from '@prisma/client/runtime/client';
import type { FieldCrypto } from '@hushfield/core';
import type { ModelMeta } from '../../metadata';
import type { ResultDecryptor } from '../read/decrypt-result';
import { boundField } from '../../value-context';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';
import { type AnyClient, delegate, sideQuery } from '../transaction-context';
import {
  asWhereInput,
  type CreatedRow,
  type Held,
  heldFor,
  holds,
  mayHold,
  givenScope,
  type IndexedUnique,
  uniquesTouched,
} from './indexed-uniques';

/** Top-level writes whose where names rows they update (their creates are checked as created rows). */
const UPDATES = new Set(['update', 'updateMany', 'updateManyAndReturn', 'upsert']);

/** Most rows read to learn the fields of a `@@unique` an update does not give. */
const MAX_TARGETS = 1_000;

/** Created rows checked in one query (an `OR` of their values). */
const CHUNK = 200;

/**
 * Whether {@link checkUniqueAcrossVersions} may have anything to check for a shared index,
 * without I/O: false for anything but an update or upsert, and while this process knows one
 * live index version (the usual case), so that a write does not walk its fields or await for
 * nothing. Per-scope indexes are checked once the row's scope is known ({@link UniqueCheck.scope}).
 */
export function mayCheckAcrossVersions(crypto: FieldCrypto, operation: string): boolean {
  return UPDATES.has(operation) && crypto.cachedIndexVersionCount() !== 1;
}

/** What {@link checkUniqueAcrossVersions} needs. */
export interface UniqueCheck {
  readonly view: SchemaView;
  readonly crypto: FieldCrypto;
  /**
   * Opens the index sources of the rows an update writes another field of a compound unique
   * of (their index values stay, but meet other rows): failing, the write fails with its error.
   */
  readonly decryptor: Pick<ResultDecryptor, 'decryptOrThrow'>;
  readonly base: AnyClient;
  readonly model: ModelMeta;
  readonly operation: string;
  readonly args: Args;
  /** The operation's where, rewritten to index values: the rows it writes, which may hold the value already. */
  readonly where?: unknown;
  /**
   * Checks the constraints holding a per-scope index, for the updated row's scope (read when
   * sealing the update), instead of those holding a shared one.
   */
  readonly scope?: string;
}

/**
 * Refuses an update (or upsert) of a unique blind index's source when another row holds the
 * same values under another live key version (see the file comment): a `@unique` index, or a
 * `@@unique` holding one; shared ones, or with {@link UniqueCheck.scope} per-scope ones. Costs
 * nothing unless the write gives such a field and this process knows more than one live
 * version. An upsert's branch that runs is checked, not the other: one more side query tells
 * which. Rows a write creates are checked by {@link checkCreatedRows}.
 * @throws PrismaClientKnownRequestError P2002 (`meta.target`: the constraint's columns), as
 *   Prisma's own for a duplicate: before anything is written
 */
export async function checkUniqueAcrossVersions(check: UniqueCheck): Promise<void> {
  const { crypto, model, operation, args } = check;
  if (!UPDATES.has(operation)) return;
  if (operation !== 'upsert') return refuseHeld(check, await heldByUpdate(check, args.data), true);
  // An upsert writes one branch only: `update` when its where finds a row, else `create`.
  const updated = await heldByUpdate(check, args.update);
  const only = check.scope === undefined ? 'shared' : 'perScope';
  const created = isPlainObject(args.create)
    ? await heldFor(crypto, { model, data: args.create, scope: givenScope(model, args.create), only })
    : [];
  if (updated.length === 0 && created.length === 0) return;
  const found = await sideQuery(check.base, (client) =>
    delegate(client, check.view.delegateName(model)).count({ where: asWhereInput(model, check.where), take: 1 }),
  );
  return refuseHeld(check, found === 0 ? created : updated, false);
}

/**
 * What the rows an update's where finds would hold once `data` is written: the fields of a
 * constraint it does not give (a compound's others) are read from those rows first (one side
 * query, only when needed), and when it gives a compound's other field but not the source of
 * its index column, that source is read and decrypted, its index value under every live
 * version being what the row's tuple then holds.
 * @throws PrismaClientKnownRequestError P2002 when two of those rows would hold the same values
 */
async function heldByUpdate(check: UniqueCheck, data: unknown): Promise<Held[]> {
  const { view, crypto, model } = check;
  if (!isPlainObject(data)) return [];
  const only = check.scope === undefined ? 'shared' : 'perScope';
  const among = uniquesTouched(model, data).filter((unique) => unique[only]);
  if (among.length === 0) return [];
  const scope = check.scope ?? givenScope(model, data);
  const missing = new Set<string>();
  const sources = new Set<string>();
  for (const unique of among) {
    for (const field of unique.fields) {
      const index = model.blindIndexes[field];
      if (index !== undefined) {
        if (data[index.source] === undefined) sources.add(index.source);
        continue;
      }
      const known = field === model.scopeField && only === 'perScope';
      if (data[field] === undefined && !known) missing.add(field);
    }
  }
  if ((missing.size === 0 && sources.size === 0) || check.where === undefined) {
    return heldFor(crypto, { model, data, scope, only, among });
  }
  const select: Args = Object.fromEntries([...missing, ...sources].map((field) => [field, true]));
  if (sources.size > 0) {
    // What the values read are opened with: the row's id, scope and bound field.
    const id = view.idField(model);
    const bound = boundField(model);
    for (const field of [id, model.scopeField, bound]) if (field !== undefined) select[field] = true;
  }
  const targets = (await sideQuery(check.base, (client) =>
    delegate(client, view.delegateName(model)).findMany({
      where: asWhereInput(model, check.where),
      select,
      take: MAX_TARGETS,
    }),
  )) as Args[];
  if (sources.size > 0) await check.decryptor.decryptOrThrow(model, targets);
  const held: Held[] = [];
  const seen = new Map<IndexedUnique, Set<string>>();
  for (const known of targets) {
    const given = Object.fromEntries([...sources].map((source) => [source, known[source]]));
    const row = sources.size === 0 ? data : { ...given, ...data };
    for (const entry of await heldFor(crypto, { model, data: row, known, scope, only, among })) {
      // Two rows of the write that would hold the same values, under different versions.
      const values = JSON.stringify(entry.unique.fields.map((field) => heldValue(entry.where[field])));
      let seenValues = seen.get(entry.unique);
      if (seenValues === undefined) seen.set(entry.unique, (seenValues = new Set()));
      if (sources.size > 0 && seenValues.has(values)) throw duplicate(model, entry.unique);
      seenValues.add(values);
      held.push(entry);
    }
  }
  return held;
}

/** A {@link Held} filter's value of a field, the same whatever order its versions come in. */
function heldValue(wanted: unknown): unknown {
  return isPlainObject(wanted) ? [...(wanted.in as unknown[])].map(String).sort() : String(wanted);
}

/**
 * Refuses (or, with `skipDuplicates` or for a row marked {@link CreatedRow.skip}, drops) a row a
 * write creates when another row holds its values of a unique blind-index constraint under
 * another live key version: one query per constraint and {@link CHUNK} rows, and none while one
 * version is live.
 * @returns the rows to drop (their sealed data)
 * @throws PrismaClientKnownRequestError P2002 (`meta.target`: the constraint's columns), without
 *   `skipDuplicates`: before anything is written
 */
export async function checkCreatedRows(
  check: Pick<UniqueCheck, 'view' | 'crypto' | 'base'>,
  rows: readonly CreatedRow[],
  skipDuplicates: boolean,
): Promise<ReadonlySet<Args>> {
  const dropped = new Set<Args>();
  const found = async (client: AnyClient, row: CreatedRow): Promise<boolean> => {
    const where = asWhereInput(row.model, row.unless);
    return ((await delegate(client, check.view.delegateName(row.model)).count({ where, take: 1 })) as number) > 0;
  };
  const groups = new Map<IndexedUnique, { model: ModelMeta; entries: { row: CreatedRow; held: Held }[] }>();
  for (const row of rows) {
    if (!mayHold(check.crypto, row)) continue;
    for (const held of await heldFor(check.crypto, row)) {
      let group = groups.get(held.unique);
      if (group === undefined) groups.set(held.unique, (group = { model: row.model, entries: [] }));
      group.entries.push({ row, held });
    }
  }
  for (const [unique, { model, entries }] of groups) {
    const select = Object.fromEntries(unique.fields.map((field) => [field, true]));
    for (let i = 0; i < entries.length; i += CHUNK) {
      const chunk = entries.slice(i, i + CHUNK);
      const holders = (await sideQuery(check.base, (client) =>
        delegate(client, check.view.delegateName(model)).findMany({
          where: { OR: chunk.map(({ held }) => held.where) },
          select,
        }),
      )) as Args[];
      for (const { row, held } of chunk) {
        if (!holders.some((holder) => holds(held, holder))) continue;
        // Created only when its where finds no row: when it finds one, nothing is created.
        if (row.unless !== undefined && (await sideQuery(check.base, (client) => found(client, row)))) continue;
        if (!skipDuplicates && row.skip !== true) throw duplicate(model, unique);
        dropped.add(row.out);
      }
    }
  }
  return dropped;
}

/**
 * Refuses the write when a row other than those its where names holds the values of one of
 * `held`: one query per constraint and {@link CHUNK} of them (an `OR` of their values), and one
 * more when one is held. The rows holding them are compared with those of them the where names,
 * by the constraint's columns (unique: each row holds other values), instead of being filtered
 * out with `NOT where`: SQL's `NOT` drops a row for which the where is NULL (a nullable column
 * it filters on is NULL there), which would let such a holder through.
 * @param updates - whether the write updates the rows its where finds: one that finds none
 *   writes nothing (Prisma answers P2025, or a count of 0), and is not refused
 */
async function refuseHeld(check: UniqueCheck, held: readonly Held[], updates: boolean): Promise<void> {
  const { view, model } = check;
  const rows = (client: AnyClient) => delegate(client, view.delegateName(model));
  const groups = new Map<IndexedUnique, Args[]>();
  for (const { unique, where } of held) {
    const group = groups.get(unique);
    if (group === undefined) groups.set(unique, [where]);
    else group.push(where);
  }
  for (const [unique, wheres] of groups) {
    const select = Object.fromEntries(unique.fields.map((field) => [field, true]));
    const identity = (row: Args): string => unique.fields.map((field) => String(row[field] ?? '\u0000')).join('\u0000');
    for (let i = 0; i < wheres.length; i += CHUNK) {
      const chunk = wheres.slice(i, i + CHUNK);
      const values = chunk.length === 1 ? chunk[0] : { OR: chunk };
      let holders = (await sideQuery(check.base, (client) =>
        rows(client).findMany({ where: values, select }),
      )) as Args[];
      if (holders.length === 0) continue;
      if (check.where !== undefined) {
        const where = asWhereInput(model, check.where);
        const own = (await sideQuery(check.base, (client) =>
          rows(client).findMany({ where: { AND: [where, values] }, select }),
        )) as Args[];
        const ownIdentities = new Set(own.map(identity));
        holders = holders.filter((row) => !ownIdentities.has(identity(row)));
        if (holders.length === 0) continue;
        if (updates && own.length === 0) {
          const found = await sideQuery(check.base, (client) => rows(client).count({ where, take: 1 }));
          if (found === 0) return;
        }
      }
      throw duplicate(model, unique);
    }
  }
}

/** Prisma's unique-constraint error (P2002) naming the constraint's columns, never a value. */
function duplicate(model: ModelMeta, unique: IndexedUnique): PrismaClientKnownRequestError {
  const sources = unique.fields.map((field) => model.blindIndexes[field]?.source ?? field);
  return new PrismaClientKnownRequestError(
    `Unique constraint failed on the fields: (${unique.target.map((column) => `\`${column}\``).join(',')}): ` +
      `another row holds these values of ${model.name}.(${sources.join(', ')}) under another live ` +
      'blind-index key version (a key rotation is under way)',
    {
      code: 'P2002',
      clientVersion: Prisma.prismaVersion.client,
      meta: { modelName: model.name, target: [...unique.target] },
    },
  );
}
