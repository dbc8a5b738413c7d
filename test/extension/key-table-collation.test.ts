/**
 * A key table whose scope column compares case-insensitively, as MySQL's and MariaDB's default
 * collations do (this repository's migrations give every table `utf8mb4_bin`; an application's
 * own migration may not). Asked for the active key of `Acme`, the table answers `acme`'s: a
 * write must refuse it with a typed error, not seal one scope's values under another's key
 * (which every read would then refuse, and a shred of `acme` would destroy).
 */
import { KeyStoreError } from '@hushfield/core';
import { computedBlindIndex } from '@hushfield/prisma';
import { describeOn } from '../support/provider';
import { createHarness, type Harness } from './support';

describeOn(['mysql'], 'collations that compare scopes as equal are a MySQL/MariaDB default')(
  'a key table with a case-insensitive scope column',
  () => {
    let h: Harness;

    beforeAll(async () => {
      h = await createHarness();
      await h.db.query('ALTER TABLE `hushfield_keys` MODIFY `scope` VARCHAR(191) NOT NULL COLLATE utf8mb4_general_ci');
    });
    afterAll(() => h.close());

    const user = (tenantId: string, email: string) => ({
      data: { emailIdx: computedBlindIndex, tenantId, name: 'Ada', email, notes: 'prefers tea' },
    });

    it("refuses to write a scope whose key lookup answers another scope's key, and writes nothing", async () => {
      const first = await h.prisma.user.create(user('acme', 'ada@acme.example'));
      // A client that has cached nothing: it asks the key table for "Acme".
      const other = h.fresh().prisma;
      const refused = other.user.create(user('Acme', 'grace@acme.example'));
      await expect(refused).rejects.toBeInstanceOf(KeyStoreError);
      await expect(other.user.create(user('Acme', 'grace@acme.example'))).rejects.toThrow(
        /key of scope "acme" when asked for the active scope key of scope "Acme"/,
      );
      const tenants = await h.db.query<{ tenantId: string }>('SELECT `tenantId` FROM `users` ORDER BY `tenantId`');
      expect(tenants.map((row) => row.tenantId)).toEqual(['acme']);
      const keys = await h.db.query<{ scope: string }>("SELECT `scope` FROM `hushfield_keys` WHERE `kind` = 'scope'");
      expect(keys.map((row) => row.scope)).toEqual(['acme']);
      // The scope the table holds still writes and reads, through either client.
      expect(await other.user.findUnique({ where: { id: first.id } })).toMatchObject({ email: 'ada@acme.example' });
      const second = await other.user.create(user('acme', 'grace@acme.example'));
      expect(await h.prisma.user.findUnique({ where: { id: second.id } })).toMatchObject({ notes: 'prefers tea' });
    });

    it("refuses to rotate or shred a scope whose key table answers another scope's keys, and changes none", async () => {
      const first = await h.prisma.user.create(user('acme', 'rotated@acme.example'));
      const keys = h.fresh().prisma.$hushfield.crypto.keys;
      const before = await h.db.query<{ scope: string; version: number; state: string }>(
        "SELECT `scope`, `version`, `state` FROM `hushfield_keys` WHERE `kind` = 'scope' ORDER BY `version`",
      );
      await expect(keys.rotateScope('Acme')).rejects.toThrow(/when asked for the active scope key of scope "Acme"/);
      await expect(keys.destroyScope('ACME')).rejects.toThrow(/listed keys of scope "acme" when asked for .*"ACME"/);
      const after = await h.db.query<{ scope: string; version: number; state: string }>(
        "SELECT `scope`, `version`, `state` FROM `hushfield_keys` WHERE `kind` = 'scope' ORDER BY `version`",
      );
      expect(after).toEqual(before);
      // acme's own rotation and reads are untouched.
      await keys.rotateScope('acme');
      expect(await h.fresh().prisma.user.findUnique({ where: { id: first.id } })).toMatchObject({
        email: 'rotated@acme.example',
      });
    });
  },
);
