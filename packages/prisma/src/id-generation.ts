/**
 * What the generator and the extension share about client-side id generations: which ones the
 * client makes (so a value bound to the row is known before the write), how long their values
 * are, and how the schema spells them.
 */
import type { IdGeneration } from './metadata';

/** The size of a `nanoid()` value when the default names none. */
const NANOID_DEFAULT_SIZE = 21;

/** The length of the values each fixed-format generator makes (`row-ids.ts`). */
const FIXED_LENGTH: Partial<Record<IdGeneration, number>> = { uuid: 36, uuid7: 36, cuid: 25, cuid2: 24, ulid: 26 };

/** The generations whose value is not the database's: made on the client, or given by the caller (`none`). */
const CLIENT_SIDE: readonly IdGeneration[] = ['uuid', 'uuid7', 'cuid', 'cuid2', 'ulid', 'nanoid', 'none'];

/** The number of characters of a `nanoid` generation's values, or `undefined` for any other generation. */
export function nanoidSize(generation: IdGeneration): number | undefined {
  if (generation === 'nanoid') return NANOID_DEFAULT_SIZE;
  const sized = /^nanoid\((\d+)\)$/.exec(generation);
  return sized === null ? undefined : Number(sized[1]);
}

/** Whether values of `generation` are known before the write (made on the client, or given by the caller). */
export function isClientGenerated(generation: IdGeneration): boolean {
  return CLIENT_SIDE.includes(generation) || nanoidSize(generation) !== undefined;
}

/** The length of the values the extension generates for `generation`, or `undefined` when it makes none. */
export function generatedLength(generation: IdGeneration): number | undefined {
  return FIXED_LENGTH[generation] ?? nanoidSize(generation);
}

/** The `@default(...)` a generation stands for, as the schema writes it: `uuid(7)`, `cuid(2)`, `nanoid(12)`... */
export function defaultCall(generation: IdGeneration): string {
  if (generation === 'uuid7') return 'uuid(7)';
  if (generation === 'cuid2') return 'cuid(2)';
  return generation.endsWith(')') ? generation : `${generation}()`;
}
