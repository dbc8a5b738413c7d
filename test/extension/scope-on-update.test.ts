/**
 * Updating the field a scope column references: the extension refuses it when the database would
 * rewrite the scope of the rows holding it (`onUpdate` Cascade, Prisma's default, SetNull,
 * SetDefault: Member's organization), and leaves it to the database when the relation makes the
 * database refuse it (`Restrict`, `NoAction`: TeamNote's team), as it does for a bound id.
 */
import { UnsupportedQueryError } from '@hushfield/core';
import { createHarness, type Harness, rejection } from './support';

describe('fieldEncryption: an update of the field a scope column references', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('refuses it before anything is sent when the relation cascades to the scope', async () => {
    const org = await h.prisma.organization.create({ data: { slug: 'cascading-org' } });
    const before = h.queries.length;
    const error = await rejection(h.prisma.organization.update({ where: { id: org.id }, data: { id: 'moved-org' } }));
    expect(error).toBeInstanceOf(UnsupportedQueryError);
    expect(h.queries.slice(before).filter((q) => /update/i.test(q.query))).toEqual([]);
  });

  it('leaves it to the database with onUpdate: Restrict, which refuses it while a row holds the scope', async () => {
    await h.prisma.team.create({ data: { id: 'team-a', name: 'A', notes: { create: { text: 'note of team A' } } } });
    const error = await rejection(h.prisma.team.update({ where: { id: 'team-a' }, data: { id: 'team-b' } }));
    expect(error).toBeDefined();
    expect(error).not.toBeInstanceOf(UnsupportedQueryError);
    // The database refused it: the note is where it was, under its scope, and opens.
    const notes = await h.prisma.teamNote.findMany({ where: { teamId: 'team-a' } });
    expect(notes.map((note) => note.text)).toEqual(['note of team A']);
    expect(await h.prisma.team.findUnique({ where: { id: 'team-b' } })).toBeNull();

    // A team no note holds changes its id.
    await h.prisma.team.create({ data: { id: 'team-c', name: 'C' } });
    await h.prisma.team.update({ where: { id: 'team-c' }, data: { id: 'team-d' } });
    expect(await h.prisma.team.findUnique({ where: { id: 'team-d' } })).toMatchObject({ name: 'C' });
  });
});
