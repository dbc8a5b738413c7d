/**
 * A `@unique` blind index while several index root versions are live (after `keys rotate
 * --index`, until `reencrypt` has rebuilt the index): a value written under the active
 * version differs from the same value stored under an older one, so the database's constraint
 * cannot see them as equal. Before a write of such a field, one side query (in the caller's
 * interactive transaction when there is one) looks for another row holding the value under
 * another live version, and the write is refused as plain Prisma refuses a duplicate (P2002).
 * With one live version (the usual case) nothing is queried.
 */
import { Prisma } from '@prisma/client/extension';
import { PrismaClientKnownRequestError } from '@prisma/client/runtime/client';
import type { FieldCrypto } from '@hushfield/core';
import type { BlindIndexMeta, ModelMeta } from '../../metadata';
import { isLogicalKey } from '../query/arg-shapes';
import { type Args, isPerScopeIndex, isPlainObject, type SchemaView } from '../schema-view';
import { type AnyClient, delegate, sideQuery } from '../transaction-context';
import { fieldPlainOf } from './row-sealer';

/** Write operations whose data may give a `@unique` blind index's source. */
const WRITES = new Set([
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
]);

/**
 * Whether {@link checkUniqueAcrossVersions} may have anything to check, without I/O: false for
 * a read, and while this process knows one live index version (the usual case), so that a
 * write does not walk its fields or await for nothing.
 */
export function mayCheckAcrossVersions(crypto: FieldCrypto, operation: string): boolean {
  return WRITES.has(operation) && crypto.cachedIndexVersionCount() !== 1;
}

/** What {@link checkUniqueAcrossVersions} needs. */
export interface UniqueCheck {
  readonly view: SchemaView;
  readonly crypto: FieldCrypto;
  readonly base: AnyClient;
  readonly model: ModelMeta;
  readonly operation: string;
  readonly args: Args;
  /** The operation's where, rewritten to index values: the rows it writes, which may hold the value already. */
  readonly where?: unknown;
}

/**
 * Refuses a write of a `@unique` shared blind index's source when another row holds the same
 * value under another live index version (see the file comment). Costs nothing unless the
 * write gives such a field and this process knows more than one live version. An upsert's
 * branch that runs is checked, not the other: one more side query tells which.
 * @throws PrismaClientKnownRequestError P2002 (`meta.target`: the index column), as Prisma's
 *   own for a duplicate: before anything is written
 */
export async function checkUniqueAcrossVersions(check: UniqueCheck): Promise<void> {
  const { view, crypto, model, operation, args } = check;
  // `skipDuplicates` asks for duplicates to be dropped, not refused: left to the constraint.
  if (!mayCheckAcrossVersions(crypto, operation) || args.skipDuplicates === true) return;
  if (operation !== 'upsert') {
    const rows = Array.isArray(args.data) ? args.data : [args.data];
    return refuseHeld(check, await heldElsewhere(view, crypto, model, rows), !operation.startsWith('create'));
  }
  // An upsert writes one branch only: `update` when its where finds a row, else `create`.
  const updated = await heldElsewhere(view, crypto, model, [args.update]);
  const created = await heldElsewhere(view, crypto, model, [args.create]);
  if (updated.length === 0 && created.length === 0) return;
  const found = await sideQuery(check.base, (client) =>
    delegate(client, view.delegateName(model)).count({ where: asWhereInput(model, check.where), take: 1 }),
  );
  return refuseHeld(check, found === 0 ? created : updated, false);
}

/** A `@unique` shared index a write gives values for, and its values under the other live versions. */
interface Written {
  readonly index: BlindIndexMeta;
  readonly values: string[];
}

/**
 * The `@unique` shared blind indexes that `rows` give a source value for, with that value's
 * index values under the live versions other than the active one: none (and no I/O) while
 * this process knows one live version.
 */
async function heldElsewhere(
  view: SchemaView,
  crypto: FieldCrypto,
  model: ModelMeta,
  rows: readonly unknown[],
): Promise<Written[]> {
  const written: Written[] = [];
  for (const row of rows) {
    if (!isPlainObject(row)) continue;
    for (const meta of view.writePlan(model).encrypted) {
      const plain = row[meta.name] === undefined ? undefined : fieldPlainOf(meta, row[meta.name]);
      if (typeof plain !== 'string') continue;
      for (const { index, spec } of view.indexSpecs(model, meta.name)) {
        if (!index.unique || isPerScopeIndex(index)) continue;
        // The usual case ends here, without I/O: one live version, which the constraint covers.
        if (crypto.cachedIndexVersionCount() === 1) return [];
        const [, ...others] = await crypto.blindIndexAll(spec, plain);
        if (others.length > 0) written.push({ index, values: others });
      }
    }
  }
  return written;
}

/**
 * Refuses the write when a row other than those its where names holds one of `written`'s values.
 * The rows holding them are compared with those of them the where names, by their index
 * columns (unique: each holds one of the values), instead of being filtered out with
 * `NOT where`: SQL's `NOT` drops a row for which the where is NULL (a nullable column it filters
 * on is NULL there), which would let such a holder through.
 * @param updates - whether the write updates the rows its where finds: one that finds none
 *   writes nothing (Prisma answers P2025, or a count of 0), and is not refused
 */
async function refuseHeld(check: UniqueCheck, written: readonly Written[], updates: boolean): Promise<void> {
  if (written.length === 0) return;
  const { view, model } = check;
  const rows = (client: AnyClient) => delegate(client, view.delegateName(model));
  const held: Args = { OR: written.map(({ index, values }) => ({ [index.name]: { in: values } })) };
  const select = Object.fromEntries(written.map(({ index }) => [index.name, true]));
  const identity = (row: Args): string => JSON.stringify(written.map(({ index }) => row[index.name] ?? null));
  let holders = (await sideQuery(check.base, (client) => rows(client).findMany({ where: held, select }))) as Args[];
  if (holders.length === 0) return;
  if (check.where !== undefined) {
    const where = asWhereInput(model, check.where);
    const own = (await sideQuery(check.base, (client) =>
      rows(client).findMany({ where: { AND: [where, held] }, select }),
    )) as Args[];
    const ownIdentities = new Set(own.map(identity));
    holders = holders.filter((row) => !ownIdentities.has(identity(row)));
    if (holders.length === 0) return;
    if (updates && own.length === 0) {
      const found = await sideQuery(check.base, (client) => rows(client).count({ where, take: 1 }));
      if (found === 0) return;
    }
  }
  const holder = holders[0];
  const taken = written.find(({ index, values }) => values.includes(holder[index.name] as string)) ?? written[0];
  throw duplicate(model, taken.index);
}

/**
 * A unique where as a filter: a compound unique input (`provider_externalIdIdx: { ... }`),
 * which a filter does not take, spread into its fields.
 */
function asWhereInput(model: ModelMeta, where: unknown): unknown {
  if (!isPlainObject(where)) return where;
  const out: Args = {};
  for (const [key, value] of Object.entries(where)) {
    if (!isLogicalKey(key) && model.fields[key] === undefined && isPlainObject(value)) Object.assign(out, value);
    else out[key] = value;
  }
  return out;
}

/** Prisma's unique-constraint error (P2002) naming the index column, never a value. */
function duplicate(model: ModelMeta, index: BlindIndexMeta): PrismaClientKnownRequestError {
  return new PrismaClientKnownRequestError(
    `Unique constraint failed on the fields: (\`${index.dbName}\`): another row holds this value of ` +
      `${model.name}.${index.source} under another live blind-index version (an index-key rotation is under way)`,
    {
      code: 'P2002',
      clientVersion: Prisma.prismaVersion.client,
      meta: { modelName: model.name, target: [index.dbName] },
    },
  );
}
