/**
 * `@fieldseal/prisma`: the generator's schema metadata, the client extension and the
 * Prisma-backed key store.
 */
export * from './metadata';
export { PrismaKeyStore, type PrismaKeyStoreOptions } from './key-store/prisma-key-store';
