/**
 * The clinic application's wiring: one PGlite database, a base Prisma client that records the
 * SQL it sends, and that client extended with hushfield. This is the part of the quick start
 * an application copies.
 */
import { fieldEncryption } from '@hushfield/prisma';
import type { Keyring } from '@hushfield/core';
import { hushfieldSchema } from '../prisma/generated/hushfield';
import type { PGlite } from '@electric-sql/pglite';
import { PrismaClient } from '../prisma/generated/client/client';
import { adapterFor } from './database';

/** A statement Prisma sent to the database, as its query log reports it. */
export interface SentQuery {
  readonly query: string;
  readonly params: string;
}

/** Builds the clinic's Prisma client: hushfield on top of a plain client on `pglite`. */
export function createClinic(pglite: PGlite, keyring: Keyring) {
  const base = new PrismaClient({ adapter: adapterFor(pglite), log: [{ emit: 'event', level: 'query' }] });
  const sent: SentQuery[] = [];
  base.$on('query', (event) => {
    sent.push({ query: event.query, params: event.params });
  });
  const prisma = base.$extends(
    fieldEncryption({
      schema: hushfieldSchema,
      keyring,
      // Scope keys stay unwrapped in memory for at most five minutes.
      cache: { ttlMs: 5 * 60_000, maxEntries: 1000 },
    }),
  );
  return { base, prisma, sent };
}

/** The extended client type. */
export type Clinic = ReturnType<typeof createClinic>;
