/**
 * Two clients extended with their own `fieldEncryption` from one base PrismaClient (say, two
 * modules with different keyrings). An interactive transaction belongs to the client that
 * opened it: the key lookups of the other never run inside it (they saw its uncommitted rows,
 * and a key one wrote there could vanish with its rollback while the other kept it cached).
 * A client sharing the opener's crypto (option `crypto`) still joins it, as documented.
 */
import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@hushfield/core';
import { fieldEncryption } from '@hushfield/prisma';
import { describeOn } from '../support/provider';
import { createHarness, hushfieldSchema, type Harness } from './support';

describeOn(['postgresql', 'mysql'], 'another connection reads beside the transaction')(
  'fieldEncryption: sibling clients of one base client',
  () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness();
    });
    afterAll(async () => {
      await h.close();
    });

    it("runs one client's key lookups outside the other's interactive transaction; a client sharing its crypto joins it", async () => {
      const a = h.prisma;
      const b = h.base.$extends(
        fieldEncryption({ schema: hushfieldSchema, keyring: new LocalKeyring(randomBytes(32)) }),
      );
      const shared = h.base.$extends(fieldEncryption({ schema: hushfieldSchema, crypto: a.$hushfield.crypto }));
      const scope = `only-in-a-${randomBytes(4).toString('hex')}`;
      const seen: Record<string, number> = {};
      const rolledBack = new Error('roll back');
      await expect(
        a.$transaction(async (tx) => {
          // A key row only this transaction sees until it commits (it never does).
          await tx.$executeRawUnsafe(
            'INSERT INTO hushfield_keys (id, key_id, kind, scope, version, state, wrapped_key, keyring_id, ' +
              `created_at, updated_at) VALUES ('${scope}', '${scope}', 'scope', '${scope}', 1, 'active', 'w', ` +
              "'local:x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
          );
          seen.opener = (await a.$hushfield.crypto.keys.list({ scope })).length;
          seen.sibling = (await b.$hushfield.crypto.keys.list({ scope })).length;
          seen.sharedCrypto = (await shared.$hushfield.crypto.keys.list({ scope })).length;
          throw rolledBack;
        }),
      ).rejects.toBe(rolledBack);
      expect(seen).toEqual({ opener: 1, sibling: 0, sharedCrypto: 1 });
      expect(await h.db.query('SELECT id FROM hushfield_keys WHERE scope = $1', [scope])).toEqual([]);
    });
  },
);
