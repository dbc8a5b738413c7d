import { DecryptionError, UnsupportedQueryError } from '@hushfield/core';
import type { HushfieldSchema } from '@hushfield/prisma';
import { createHarness, expectNoPlaintextIn, type Harness, hushfieldSchema, isEnvelope, rejection } from './support';

/** The test schema as it was before `bind: name` was added to Setting. */
function unboundSchema(): HushfieldSchema {
  const setting: Record<string, unknown> = { ...hushfieldSchema.models.Setting, bindRowId: false };
  delete setting.bindField;
  delete setting.bindGeneration;
  const models = { ...hushfieldSchema.models, Setting: setting } as unknown as HushfieldSchema['models'];
  return { ...(hushfieldSchema as unknown as HushfieldSchema), models };
}

/**
 * `/// @encryption(scope: orgId, bind: name)` on a model with a compound `@@id([orgId, name])`:
 * `name` alone is not unique, but together with the scope it is. A value copied to another
 * setting of the organization meets another name; one copied to another organization's setting
 * of the same name fails the read's scope check. Both throw, where before the binding both read
 * back the copied plaintext.
 */
describe('fieldEncryption: a compound-id model bound to the field unique with its scope', () => {
  let h: Harness;
  let orgId: string;
  let otherOrgId: string;

  beforeAll(async () => {
    h = await createHarness();
    orgId = (await h.prisma.organization.create({ data: { slug: 'compound-bound' } })).id;
    otherOrgId = (await h.prisma.organization.create({ data: { slug: 'compound-bound-other' } })).id;
  });
  afterAll(async () => {
    await h.close();
  });

  const key = (org: string, name: string) => ({ orgId_name: { orgId: org, name } });
  const storedValue = async (org: string, name: string) =>
    (
      await h.db.query<{ value: string | null }>('SELECT value FROM settings WHERE org_id = $1 AND name = $2', [
        org,
        name,
      ])
    )[0]?.value;

  it('refuses values swapped between two settings of one organization, and one copied to another organization', async () => {
    await h.prisma.setting.create({ data: { orgId, name: 'swap-a', value: 'value of a' } });
    await h.prisma.setting.create({ data: { orgId, name: 'swap-b', value: 'value of b' } });
    const a = await storedValue(orgId, 'swap-a');
    const b = await storedValue(orgId, 'swap-b');
    expect([isEnvelope(a ?? ''), isEnvelope(b ?? '')]).toEqual([true, true]);
    await expectNoPlaintextIn(h.db, 'settings', ['value of a', 'value of b']);
    expect(await h.fresh().prisma.setting.findUnique({ where: key(orgId, 'swap-a') })).toEqual({
      orgId,
      name: 'swap-a',
      value: 'value of a',
    });
    await h.db.query('UPDATE settings SET value = $1 WHERE org_id = $2 AND name = $3', [b, orgId, 'swap-a']);
    await h.db.query('UPDATE settings SET value = $1 WHERE org_id = $2 AND name = $3', [a, orgId, 'swap-b']);
    for (const name of ['swap-a', 'swap-b']) {
      const error = await rejection(h.fresh().prisma.setting.findUnique({ where: key(orgId, name) }));
      expect(error).toBeInstanceOf(DecryptionError);
      expect(error).toMatchObject({ model: 'Setting', field: 'value', rowId: name });
      expect((error as Error).message).not.toContain('value of');
    }
    const many = await rejection(h.prisma.setting.findMany({ where: { orgId, name: { startsWith: 'swap-' } } }));
    expect(many).toBeInstanceOf(DecryptionError);

    // To another organization's setting of the same name: the name matches, the read's scope check refuses it.
    await h.prisma.setting.create({ data: { orgId, name: 'theme', value: 'our theme' } });
    await h.prisma.setting.create({ data: { orgId: otherOrgId, name: 'theme', value: 'their theme' } });
    await h.db.query('UPDATE settings SET value = $1 WHERE org_id = $2 AND name = $3', [
      await storedValue(orgId, 'theme'),
      otherOrgId,
      'theme',
    ]);
    const error = await rejection(h.fresh().prisma.setting.findUnique({ where: key(otherOrgId, 'theme') }));
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as Error).message).not.toContain('our theme');
    // The setting it was copied from still reads.
    expect((await h.prisma.setting.findUniqueOrThrow({ where: key(orgId, 'theme') })).value).toBe('our theme');
  });

  it('creates settings nested under their organization, and updates and upserts them there', async () => {
    const org = await h.prisma.organization.create({
      data: {
        slug: 'compound-bound-nested',
        settings: {
          create: [
            { name: 'one', value: 'nested one' },
            { name: 'two', value: 'nested two' },
          ],
        },
      },
      include: { settings: { orderBy: { name: 'asc' } } },
    });
    expect(org.settings.map((s) => [s.name, s.value])).toEqual([
      ['one', 'nested one'],
      ['two', 'nested two'],
    ]);
    await h.prisma.organization.update({
      where: { id: org.id },
      data: {
        settings: {
          update: { where: key(org.id, 'one'), data: { value: 'nested one updated' } },
          upsert: [
            { where: key(org.id, 'two'), create: { name: 'two', value: 'never' }, update: { value: 'two upserted' } },
            { where: key(org.id, 'three'), create: { name: 'three', value: 'three created' }, update: {} },
          ],
        },
      },
    });
    const read = await h.fresh().prisma.setting.findMany({ where: { orgId: org.id }, orderBy: { name: 'asc' } });
    expect(read.map((s) => [s.name, s.value])).toEqual([
      ['one', 'nested one updated'],
      ['three', 'three created'],
      ['two', 'two upserted'],
    ]);
    // Each was sealed for its own name: swapping two of them is refused.
    const one = await storedValue(org.id, 'one');
    await h.db.query('UPDATE settings SET value = $1 WHERE org_id = $2 AND name = $3', [one, org.id, 'three']);
    await expect(h.fresh().prisma.setting.findUnique({ where: key(org.id, 'three') })).rejects.toThrow(DecryptionError);
  });

  it('upserts, updates and creates many, sealing each value for its own setting; refuses updateMany of a value', async () => {
    const created = await h.prisma.setting.upsert({
      where: key(orgId, 'upserted'),
      create: { orgId, name: 'upserted', value: 'created by upsert' },
      update: { value: 'never' },
    });
    expect(created).toEqual({ orgId, name: 'upserted', value: 'created by upsert' });
    const updated = await h.prisma.setting.upsert({
      where: key(orgId, 'upserted'),
      create: { orgId, name: 'upserted', value: 'never' },
      update: { value: 'updated by upsert' },
    });
    expect(updated.value).toBe('updated by upsert');
    await h.prisma.setting.update({ where: key(orgId, 'upserted'), data: { value: 'updated' } });
    const { count } = await h.prisma.setting.createMany({
      data: [
        { orgId, name: 'batch-1', value: 'batch one' },
        { orgId, name: 'batch-2', value: 'batch two' },
      ],
    });
    expect(count).toBe(2);
    // A compound id gives updateMany no single id to update each row by (as before the binding): refused.
    await expect(
      h.prisma.setting.updateMany({ where: { orgId, name: { in: ['batch-1', 'batch-2'] } }, data: { value: 'many' } }),
    ).rejects.toThrow(UnsupportedQueryError);
    for (const name of ['batch-1', 'batch-2'])
      await h.prisma.setting.update({ where: key(orgId, name), data: { value: 'many' } });
    const read = await h.fresh().prisma.setting.findMany({
      where: { orgId, name: { in: ['upserted', 'batch-1', 'batch-2'] } },
      orderBy: { name: 'asc' },
    });
    expect(read.map((s) => [s.name, s.value])).toEqual([
      ['batch-1', 'many'],
      ['batch-2', 'many'],
      ['upserted', 'updated'],
    ]);
    await h.db.query('UPDATE settings SET value = $1 WHERE org_id = $2 AND name = $3', [
      await storedValue(orgId, 'batch-1'),
      orgId,
      'batch-2',
    ]);
    await expect(h.fresh().prisma.setting.findUnique({ where: key(orgId, 'batch-2') })).rejects.toThrow(
      DecryptionError,
    );
  });

  it('refuses an update that renames a setting, and leaves it as it was', async () => {
    await h.prisma.setting.create({ data: { orgId, name: 'renamed', value: 'kept' } });
    const error = await rejection(h.prisma.setting.update({ where: key(orgId, 'renamed'), data: { name: 'other' } }));
    expect(error).toBeInstanceOf(UnsupportedQueryError);
    expect((error as Error).message).toContain('Setting.name');
    await expect(
      h.prisma.setting.updateMany({ where: { orgId, name: 'renamed' }, data: { name: 'other' } }),
    ).rejects.toThrow(UnsupportedQueryError);
    await expect(
      h.prisma.setting.upsert({
        where: key(orgId, 'renamed'),
        create: { orgId, name: 'renamed' },
        update: { name: 'other' },
      }),
    ).rejects.toThrow(UnsupportedQueryError);
    expect(await h.prisma.setting.findUnique({ where: key(orgId, 'renamed') })).toMatchObject({ value: 'kept' });
  });

  it('reads the bound name when the selection leaves it out, and strips it again', async () => {
    await h.prisma.setting.create({ data: { orgId, name: 'selected', value: 'selected value' } });
    expect(await h.prisma.setting.findUnique({ where: key(orgId, 'selected'), select: { value: true } })).toEqual({
      value: 'selected value',
    });
    expect(await h.prisma.setting.findUnique({ where: key(orgId, 'selected'), omit: { name: true } })).toEqual({
      orgId,
      value: 'selected value',
    });
    const loaded = await h.prisma.organization.findUnique({
      where: { id: orgId },
      select: { settings: { where: { name: 'selected' }, select: { value: true } } },
    });
    expect(loaded?.settings).toEqual([{ value: 'selected value' }]);
    // Read without its name too, a value copied from another setting is refused.
    await h.prisma.setting.create({ data: { orgId, name: 'selected-copy', value: 'copied value' } });
    await h.db.query('UPDATE settings SET value = $1 WHERE org_id = $2 AND name = $3', [
      await storedValue(orgId, 'selected-copy'),
      orgId,
      'selected',
    ]);
    await expect(
      h.fresh().prisma.setting.findUnique({ where: key(orgId, 'selected'), select: { value: true } }),
    ).rejects.toThrow(DecryptionError);
    await expect(
      h.fresh().prisma.organization.findUnique({
        where: { id: orgId },
        select: { settings: { where: { name: 'selected' }, select: { value: true } } },
      }),
    ).rejects.toThrow(DecryptionError);
  });

  it('reads values sealed before the binding from a client listing Setting in migratingBindings, and only there', async () => {
    const before = h.fresh({ schema: unboundSchema() as never }).prisma;
    await before.setting.create({ data: { orgId, name: 'old', value: 'old value' } });
    await expect(h.fresh().prisma.setting.findUnique({ where: key(orgId, 'old') })).rejects.toThrow(DecryptionError);
    const migrating = h.fresh({ migratingBindings: ['Setting'] }).prisma;
    expect((await migrating.setting.findUniqueOrThrow({ where: key(orgId, 'old') })).value).toBe('old value');
    // Its writes are bound: the client without the binding no longer opens them.
    await migrating.setting.update({ where: key(orgId, 'old'), data: { value: 'new value' } });
    expect((await h.fresh().prisma.setting.findUniqueOrThrow({ where: key(orgId, 'old') })).value).toBe('new value');
    await expect(before.setting.findUnique({ where: key(orgId, 'old') })).rejects.toThrow(DecryptionError);
  });
});
