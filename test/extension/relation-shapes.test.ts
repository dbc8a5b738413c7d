/**
 * Encrypted fields written and read through the relation shapes beyond one-to-many: a one-to-one
 * relation whose foreign key carries the scope (Organization → Billing), a self relation (a
 * Folder tree) and a many-to-many relation (Folder ↔ Label). Asserted on what the database
 * stores, on the key each value is sealed under, and through a client with cold caches.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { UnsupportedQueryError } from '@hushfield/core';
import {
  createHarness,
  expectNoPlaintextIn,
  expectNoPlaintextInLog,
  type Harness,
  isEnvelope,
  rejection,
} from './support';

type Row = Record<string, string | null>;

/** The key id an envelope names (`hfe$1$<keyId>$<version>$...`). */
const keyIdOf = (envelope: string | null) => (envelope as string).split('$')[2];

describe('fieldEncryption: one-to-one, self and many-to-many relations', () => {
  let h: Harness;
  const secrets = [
    'DE00 1111',
    'DE00 2222',
    'DE00 3333',
    'DE00 4444',
    'DE00 5555',
    'DE00 6666',
    'DE00 7777',
    'DE00 8888',
    'DE00 9999',
    'Renamed Ltd',
    'Shapes Ltd',
    'Root folder',
    'Child folder',
    'Grandchild folder',
    'Renamed child',
    'Renamed root',
    'label red',
    'label blue',
    'label green',
    'label lime',
  ];

  beforeAll(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    for (const table of ['organizations', 'billings', 'folders', 'labels']) {
      await expectNoPlaintextIn(h.db, table, secrets);
    }
    expectNoPlaintextInLog(h.queries, secrets);
  });
  afterAll(async () => {
    await h.close();
  });

  /** The key id of the scope key of `scope`. */
  async function scopeKeyId(scope: string): Promise<string | null> {
    const [row] = await h.db.query<Row>("SELECT key_id FROM hushfield_keys WHERE kind = 'scope' AND scope = $1", [
      scope,
    ]);
    return row?.key_id ?? null;
  }

  it('one-to-one: nested create, to-one update and upsert of the existing row, sealed under the parent', async () => {
    const org = await h.prisma.organization.create({
      data: { slug: 'shapes', legalName: 'Shapes Ltd', billing: { create: { iban: 'DE00 1111' } } },
      include: { billing: true },
    });
    expect(org.billing?.iban).toBe('DE00 1111');
    await h.prisma.organization.update({ where: { id: org.id }, data: { billing: { update: { iban: 'DE00 2222' } } } });
    await h.prisma.organization.update({
      where: { slug: 'shapes' },
      data: { billing: { upsert: { create: { iban: 'DE00 9999' }, update: { iban: 'DE00 3333' } } } },
    });
    const [stored] = await h.db.query<Row>('SELECT id, org_id, iban FROM billings');
    expect(stored.org_id).toBe(org.id);
    expect(isEnvelope(stored.iban)).toBe(true);
    expect(keyIdOf(stored.iban)).toBe(await scopeKeyId(org.id));
    const fresh = h.fresh().prisma;
    const read = await fresh.organization.findUniqueOrThrow({ where: { id: org.id }, include: { billing: true } });
    expect(read.billing).toMatchObject({ id: stored.id, iban: 'DE00 3333' });
    expect(await fresh.billing.findUniqueOrThrow({ where: { orgId: org.id } }).org()).toMatchObject({
      legalName: 'Shapes Ltd',
    });
  });

  it('one-to-one: a nested upsert where the parent has no related row creates it, sealed for the row it makes', async () => {
    const org = await h.prisma.organization.create({ data: { slug: 'no-billing' } });
    const updated = await h.prisma.organization.update({
      where: { id: org.id },
      data: { billing: { upsert: { create: { iban: 'DE00 4444' }, update: { iban: 'DE00 5555' } } } },
      include: { billing: true },
    });
    expect(updated.billing?.iban).toBe('DE00 4444');
    const [stored] = await h.db.query<Row>('SELECT id, iban FROM billings WHERE org_id = $1', [org.id]);
    expect(keyIdOf(stored.iban)).toBe(await scopeKeyId(org.id));
    const read = await h.fresh().prisma.billing.findUniqueOrThrow({ where: { orgId: org.id } });
    expect(read).toMatchObject({ id: stored.id, iban: 'DE00 4444' });
    // The row is there now: the same upsert updates it.
    await h.prisma.organization.update({
      where: { id: org.id },
      data: { billing: { upsert: { create: { iban: 'DE00 4444' }, update: { iban: 'DE00 5555' } } } },
    });
    expect(await h.fresh().prisma.billing.findUniqueOrThrow({ where: { orgId: org.id } })).toMatchObject({
      id: stored.id,
      iban: 'DE00 5555',
    });
  });

  it('a nested update of the row a scope relation points to writes its values and moves nothing', async () => {
    const org = await h.prisma.organization.create({
      data: { slug: 'through-billing', legalName: 'Shapes Ltd', billing: { create: { iban: 'DE00 6666' } } },
      include: { billing: true },
    });
    const billing = org.billing as { id: string };
    await h.prisma.billing.update({
      where: { id: billing.id },
      data: { iban: 'DE00 7777', org: { update: { legalName: 'Renamed Ltd' } } },
    });
    const [stored] = await h.db.query<Row>('SELECT legal_name FROM organizations WHERE id = $1', [org.id]);
    expect(keyIdOf(stored.legal_name)).toBe(await scopeKeyId(org.id));
    const read = await h
      .fresh()
      .prisma.billing.findUniqueOrThrow({ where: { id: billing.id }, include: { org: true } });
    expect(read).toMatchObject({ orgId: org.id, iban: 'DE00 7777', org: { legalName: 'Renamed Ltd' } });
  });

  it("a top-level upsert's update writes the row's to-one relation as an update does", async () => {
    const org = await h.prisma.organization.create({
      data: { slug: 'ensure-billing', billing: { create: { iban: 'DE00 8888' } } },
    });
    const ensure = (iban: string) =>
      h.prisma.organization.upsert({
        where: { slug: 'ensure-billing' },
        create: { slug: 'ensure-billing', billing: { create: { iban } } },
        update: { billing: { update: { iban } } },
        include: { billing: true },
      });
    expect((await ensure('DE00 9999')).billing?.iban).toBe('DE00 9999');
    const [stored] = await h.db.query<Row>('SELECT iban FROM billings WHERE org_id = $1', [org.id]);
    expect(keyIdOf(stored.iban)).toBe(await scopeKeyId(org.id));
    expect(await h.fresh().prisma.billing.findUniqueOrThrow({ where: { orgId: org.id } })).toMatchObject({
      iban: 'DE00 9999',
    });
    // No row yet: the create runs, the update's nested upsert is sealed for the row its create makes.
    const made = await h.prisma.organization.upsert({
      where: { slug: 'ensure-new' },
      create: { slug: 'ensure-new', billing: { create: { iban: 'DE00 8888' } } },
      update: { billing: { upsert: { create: { iban: 'DE00 8888' }, update: { iban: 'DE00 9999' } } } },
      include: { billing: true },
    });
    expect(made.billing?.iban).toBe('DE00 8888');
    expect(await h.fresh().prisma.billing.findUniqueOrThrow({ where: { orgId: made.id } })).toMatchObject({
      iban: 'DE00 8888',
    });
  });

  it('self relation: nested creates three levels deep, relation filters both ways, nested and to-one updates', async () => {
    const root = await h.prisma.folder.create({
      data: {
        tenantId: 'shapes',
        name: 'Root folder',
        nameIdx: computedBlindIndex,
        children: {
          create: {
            tenantId: 'shapes',
            name: 'Child folder',
            nameIdx: computedBlindIndex,
            children: { create: { tenantId: 'shapes', name: 'Grandchild folder', nameIdx: computedBlindIndex } },
          },
        },
      },
      include: { children: { include: { children: true } } },
    });
    expect(root.children[0].children[0].name).toBe('Grandchild folder');
    const child = root.children[0];
    const stored = await h.db.query<Row>('SELECT id, name FROM folders');
    expect(stored).toHaveLength(3);
    for (const row of stored) expect(keyIdOf(row.name)).toBe(await scopeKeyId('shapes'));

    const withGrandchild = await h.prisma.folder.findMany({
      where: { children: { some: { name: 'grandchild folder' } } },
    });
    expect(withGrandchild.map((f) => f.id)).toEqual([child.id]);
    const underRoot = await h.prisma.folder.findMany({ where: { parent: { is: { name: 'Root folder' } } } });
    expect(underRoot.map((f) => f.id)).toEqual([child.id]);

    await h.prisma.folder.update({
      where: { id: root.id },
      data: { children: { update: { where: { id: child.id }, data: { name: 'Renamed child' } } } },
    });
    await h.prisma.folder.update({ where: { id: child.id }, data: { parent: { update: { name: 'Renamed root' } } } });
    const read = await h.fresh().prisma.folder.findUniqueOrThrow({
      where: { id: child.id },
      include: { parent: true, children: true },
    });
    expect(read).toMatchObject({ name: 'Renamed child', parent: { name: 'Renamed root' } });
    expect(read.children.map((f) => f.name)).toEqual(['Grandchild folder']);
  });

  it('a to-one upsert through a foreign key the parent holds updates a linked row, and creates none it would not link', async () => {
    const orphan = await h.prisma.folder.create({
      data: { tenantId: 'upsert-parent', name: 'Child folder', nameIdx: computedBlindIndex },
    });
    const upsert = (name: string) =>
      h.prisma.folder.update({
        where: { id: orphan.id },
        data: {
          parent: {
            upsert: {
              create: { tenantId: 'upsert-parent', name, nameIdx: computedBlindIndex },
              update: { name },
            },
          },
        },
        include: { parent: true },
      });
    // Prisma creates the row of a to-one upsert with a where without linking it: refused, nothing made.
    expect(await rejection(upsert('Root folder'))).toBeInstanceOf(UnsupportedQueryError);
    expect(await h.prisma.folder.count({ where: { tenantId: 'upsert-parent' } })).toBe(1);
    await h.prisma.folder.update({
      where: { id: orphan.id },
      data: { parent: { create: { tenantId: 'upsert-parent', name: 'Root folder', nameIdx: computedBlindIndex } } },
    });
    expect((await upsert('Renamed root')).parent?.name).toBe('Renamed root');
    const read = await h
      .fresh()
      .prisma.folder.findUniqueOrThrow({ where: { id: orphan.id }, include: { parent: true } });
    expect(read.parent?.name).toBe('Renamed root');
  });

  it('many-to-many: nested create, connect, update, set, relation filters and counts', async () => {
    const folder = await h.prisma.folder.create({
      data: {
        tenantId: 'labels',
        name: 'Root folder',
        nameIdx: computedBlindIndex,
        labels: {
          create: [
            { tenantId: 'labels', text: 'label red', textIdx: computedBlindIndex },
            { tenantId: 'labels', text: 'label blue', textIdx: computedBlindIndex },
          ],
        },
      },
      include: { labels: true },
    });
    expect(folder.labels.map((l) => l.text).sort()).toEqual(['label blue', 'label red']);
    const green = await h.prisma.label.create({
      data: {
        tenantId: 'labels',
        text: 'label green',
        textIdx: computedBlindIndex,
        folders: { connect: { id: folder.id } },
      },
    });
    const found = await h.prisma.folder.findMany({
      where: { labels: { some: { text: 'LABEL GREEN' } } },
      include: { labels: { where: { text: 'label green' } } },
    });
    expect(found.map((f) => f.labels.map((l) => l.text))).toEqual([['label green']]);
    const none = (text: string) => h.prisma.folder.count({ where: { tenantId: 'labels', labels: { none: { text } } } });
    expect([await none('label green'), await none('label purple')]).toEqual([0, 1]);

    await h.prisma.folder.update({
      where: { id: folder.id },
      data: { labels: { update: { where: { id: green.id }, data: { text: 'label lime' } } } },
    });
    await h.prisma.folder.update({ where: { id: folder.id }, data: { labels: { set: [{ id: green.id }] } } });
    const [stored] = await h.db.query<Row>('SELECT text FROM labels WHERE id = $1', [green.id]);
    expect(keyIdOf(stored.text)).toBe(await scopeKeyId('labels'));
    const read = await h.fresh().prisma.folder.findUniqueOrThrow({
      where: { id: folder.id },
      include: { labels: true, _count: { select: { labels: { where: { text: 'label lime' } } } } },
    });
    expect(read.labels.map((l) => l.text)).toEqual(['label lime']);
    expect(read._count.labels).toBe(1);
  });
});
