/**
 * Key lookups inside interactive transactions whose reads see a snapshot (`REPEATABLE READ`,
 * MySQL's default, and `SERIALIZABLE`): keys are created on another connection and committed at
 * once, after the snapshot was taken, so the transaction itself cannot see them.
 */
import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import { KeyDestroyedError } from '@hushfield/core';
import { createHarness, type Harness, hushfieldSchema, rejection } from './support';
import { PrismaClient } from '../../prisma/generated/client/client';
import { testBackend } from '../support/database';
import { describeOn } from '../support/provider';

// PGlite and SQLite have one connection: there no key is created inside a transaction.
const multiConnection = testBackend() !== 'pglite';

describeOn(['postgresql', 'mysql'], 'SQLite has one writer and no isolation levels')(
  'fieldEncryption: keys created beside a snapshot transaction',
  () => {
    let h: Harness;

    beforeAll(async () => {
      h = await createHarness();
      await h.prisma.user.create({
        data: { emailIdx: computedBlindIndex, tenantId: 'seed', name: 'Seed', email: 'seed@example.com' },
      });
    });
    afterAll(async () => {
      await h.close();
    });

    (multiConnection ? it : it.skip)(
      'two REPEATABLE READ transactions creating the first key of one scope both commit, readable in a fresh process',
      async () => {
        const clients = [h.fresh().prisma, h.fresh().prisma];
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const reads: Promise<void>[] = [];
        const attempts = clients.map((prisma, i) => {
          let read!: () => void;
          reads.push(new Promise<void>((resolve) => (read = resolve)));
          return prisma.$transaction(
            async (tx) => {
              // The snapshot is taken here, before either key exists.
              await tx.user.findFirst({ where: { tenantId: 'seed' } });
              read();
              await gate;
              return tx.user.create({
                data: { emailIdx: computedBlindIndex, tenantId: 'race', name: `R${i}`, email: `r${i}@example.com` },
              });
            },
            { isolationLevel: 'RepeatableRead', timeout: 15_000 },
          );
        });
        await Promise.all(reads);
        release();
        const outcomes = await Promise.allSettled(attempts);
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled']);
        const rows = await h.fresh().prisma.user.findMany({ where: { tenantId: 'race' }, orderBy: { name: 'asc' } });
        expect(rows.map((row) => row.email)).toEqual(['r0@example.com', 'r1@example.com']);
      },
      30_000,
    );

    (multiConnection ? it : it.skip)(
      'a per-scope lookup in a REPEATABLE READ transaction finds the row it created under a new scope key',
      async () => {
        const { prisma } = h.fresh();
        const org = await prisma.organization.create({ data: { slug: 'snapshot-org' } });
        const found = await prisma.$transaction(
          async (tx) => {
            await tx.organization.findFirst({ where: { slug: 'snapshot-org' } });
            const created = await tx.contact.create({
              data: { orgId: org.id, email: 'snap@example.com', emailIdx: computedBlindIndex },
            });
            const again = await tx.contact.findFirst({ where: { orgId: org.id, email: 'snap@example.com' } });
            return { created, again };
          },
          { isolationLevel: 'RepeatableRead', timeout: 15_000 },
        );
        expect(found.again?.id).toBe(found.created.id);
      },
    );

    (multiConnection ? it : it.skip)(
      'a SERIALIZABLE transaction creates the first key of a scope without waiting for its own read locks',
      async () => {
        const { prisma } = h.fresh();
        const started = Date.now();
        const created = await prisma.$transaction(
          async (tx) => {
            await tx.user.findFirst({ where: { tenantId: 'seed' } });
            return tx.user.create({
              data: { emailIdx: computedBlindIndex, tenantId: 'serial', name: 'Ser', email: 'ser@example.com' },
            });
          },
          { isolationLevel: 'Serializable', timeout: 8_000 },
        );
        // On MySQL a SERIALIZABLE read locks the key rows it read (or the gap where one would be).
        expect(Date.now() - started).toBeLessThan(4_000);
        expect((await h.fresh().prisma.user.findUniqueOrThrow({ where: { id: created.id } })).email).toBe(
          'ser@example.com',
        );
      },
      30_000,
    );

    (multiConnection ? it : it.skip)(
      'a client whose transactions default to SERIALIZABLE creates the first key of a scope in one without waiting',
      async () => {
        const base = new PrismaClient({
          adapter: h.db.adapter(),
          transactionOptions: { isolationLevel: 'Serializable' },
        });
        try {
          const prisma = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring }));
          const started = Date.now();
          const created = await prisma.$transaction(
            async (tx) => {
              await tx.user.findFirst({ where: { tenantId: 'seed' } });
              return tx.user.create({
                data: { emailIdx: computedBlindIndex, tenantId: 'serial-default', name: 'S', email: 'sd@example.com' },
              });
            },
            { timeout: 8_000 },
          );
          expect(Date.now() - started).toBeLessThan(4_000);
          expect((await h.fresh().prisma.user.findUniqueOrThrow({ where: { id: created.id } })).email).toBe(
            'sd@example.com',
          );
        } finally {
          await base.$disconnect();
        }
      },
      30_000,
    );

    (multiConnection ? it : it.skip)(
      'a scope shredded inside a REPEATABLE READ transaction stays shredded: its key is not cached again from the snapshot',
      async () => {
        const user = await h.prisma.user.create({
          data: { emailIdx: computedBlindIndex, tenantId: 'doomed', name: 'Doomed', email: 'doomed@example.com' },
        });
        const { prisma } = h.fresh();
        const inside = await prisma.$transaction(
          async (tx) => {
            await tx.user.count({ where: { tenantId: 'doomed' } });
            await prisma.$hushfield.crypto.keys.destroyScope('doomed');
            return rejection(tx.user.findUnique({ where: { id: user.id } }));
          },
          { isolationLevel: 'RepeatableRead', timeout: 15_000 },
        );
        expect(inside).toBeInstanceOf(KeyDestroyedError);
        // "The process that shreds evicts and zeroes the keys at once" (README, "Crypto-shredding").
        expect(await rejection(prisma.user.findUnique({ where: { id: user.id } }))).toBeInstanceOf(KeyDestroyedError);
      },
    );

    (multiConnection ? it : it.skip)(
      'index versions read in a REPEATABLE READ snapshot are not cached for lookups outside it',
      async () => {
        const user = (email: string) => ({
          data: { tenantId: 'snap-rot', name: email, email, emailIdx: computedBlindIndex },
        });
        const app = h.fresh({ cache: { ttlMs: 300_000 } }).prisma;
        const ann = await app.user.create(user('ann@snap.test'));
        // Past the floor between two reads of the versions after a miss (index-rotation-elsewhere).
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        const admin = h.fresh().prisma;
        const inside = await app.$transaction(
          async (tx) => {
            await tx.user.count({ where: { tenantId: 'snap-rot' } }); // the snapshot is taken here
            // Another process rotates the index key and moves ann's index value (as reencrypt does).
            await admin.$hushfield.crypto.keys.rotateIndexKey();
            await admin.user.update({ where: { id: ann.id }, data: { email: 'ann@snap.test' } });
            // A miss inside: the versions are read again, in the snapshot (no new version there).
            return tx.user.findUnique({ where: { emailIdx: 'nobody@snap.test' } });
          },
          { isolationLevel: 'RepeatableRead', timeout: 15_000 },
        );
        expect(inside).toBeNull();
        // Outside, at once: the versions the snapshot named must not stand for the live ones.
        expect((await app.user.findUnique({ where: { emailIdx: 'ann@snap.test' } }))?.id).toBe(ann.id);
        expect((await app.user.findFirst({ where: { email: 'ann@snap.test' } }))?.id).toBe(ann.id);
      },
      30_000,
    );

    (multiConnection ? it : it.skip)(
      'creates the first index root key inside a REPEATABLE READ transaction, and finds the row by it',
      async () => {
        // A database without any key yet.
        const empty = await createHarness();
        try {
          const found = await empty.prisma.$transaction(
            async (tx) => {
              await tx.organization.findFirst({});
              const created = await tx.user.create({
                data: { emailIdx: computedBlindIndex, tenantId: 'first', name: 'First', email: 'first@example.com' },
              });
              const again = await tx.user.findFirst({ where: { email: 'first@example.com' } });
              return { created, again };
            },
            { isolationLevel: 'RepeatableRead', timeout: 15_000 },
          );
          expect(found.again?.id).toBe(found.created.id);
          expect((await empty.prisma.user.findFirst({ where: { email: 'first@example.com' } }))?.id).toBe(
            found.created.id,
          );
          expect((await empty.fresh().prisma.user.findFirst({ where: { email: 'first@example.com' } }))?.id).toBe(
            found.created.id,
          );
        } finally {
          await empty.close();
        }
      },
      30_000,
    );
  },
);
