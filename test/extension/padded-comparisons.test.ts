/**
 * MySQL's and MariaDB's PAD SPACE collations (`utf8mb4_bin` among them) compare `'x '` and `'x'`
 * as equal. A create connected to an organization by its id with a trailing space used to take
 * the scope from the where as written (`'<id> '`), while the database connected the row to the
 * organization and stored `'<id>'`: its values were sealed under a key of a scope the row does
 * not have, and never read back. The organization's own id is now read for such a where.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { createHarness, expectNoPlaintextIn, type Harness } from './support';
import { describeOn } from '../support/provider';

describeOn(['mysql'], 'PAD SPACE collations are MySQL/MariaDB')('a connect whose id ends in a space', () => {
  let h: Harness;
  const secrets = ['ada@acme.test', 'bob@acme.test', 'cy@acme.test'];

  beforeAll(async () => {
    h = await createHarness();
    // What the README advises for scopes that differ only in trailing spaces.
    await h.db.query('ALTER TABLE `hushfield_keys` MODIFY `scope` VARCHAR(191) NOT NULL COLLATE utf8mb4_nopad_bin');
  });
  afterAll(async () => {
    await expectNoPlaintextIn(h.db, 'members', secrets);
    await h.close();
  });

  it('seals under the scope the database stores: a connect, a nested create, a connectOrCreate', async () => {
    const org = await h.prisma.organization.create({ data: { slug: 'acme' } });
    await h.prisma.member.create({
      data: { email: secrets[0], emailIdx: computedBlindIndex, org: { connect: { id: `${org.id} ` } } },
    });
    await h.prisma.organization.update({
      where: { id: `${org.id} ` },
      data: { members: { create: { email: secrets[1], emailIdx: computedBlindIndex } } },
    });
    await h.prisma.member.create({
      data: {
        email: secrets[2],
        emailIdx: computedBlindIndex,
        org: { connectOrCreate: { where: { id: `${org.id}  ` }, create: { slug: 'never' } } },
      },
    });
    const members = await h.fresh().prisma.member.findMany({ where: { orgId: org.id } });
    expect(members.map((m) => m.email).sort()).toEqual(secrets);
    const scopes = await h.db.query<{ scope: string }>(
      "SELECT DISTINCT scope FROM hushfield_keys WHERE kind = 'scope'",
    );
    expect(scopes.map((row) => row.scope)).toEqual([org.id]);
  });
});
