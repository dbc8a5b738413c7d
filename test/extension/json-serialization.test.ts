/**
 * An encrypted Json field stores what plain Prisma would store in a plain Json column for the
 * same input: byte arrays (Buffer, Uint8Array) inside a JSON value are written by Prisma as
 * base64 strings, and a Decimal given as the whole value as a JSON number; they must read back
 * so through the extension too.
 */
import { Prisma } from '../../prisma/generated/client/client';
import { createHarness, type Harness } from './support';

describe('encrypted Json values serialize as Prisma serializes them', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  /** What plain Prisma stores and reads back for `value` in the same (unencrypted) column. */
  const viaPrisma = async (value: unknown) => {
    const doc = await h.base.document.create({ data: { tenantId: 'plain', title: 't', body: value as never } });
    return (await h.base.document.findUniqueOrThrow({ where: { id: doc.id } })).body;
  };

  it.each<[string, unknown]>([
    ['a Buffer inside an object', { credentialId: Buffer.from([1, 2, 250]) }],
    ['a Uint8Array inside an object', { key: new Uint8Array([9, 8, 7]) }],
    ['byte arrays inside a list', [Buffer.from('ab'), new Uint8Array([0])]],
    ['a Buffer at the top', Buffer.from([1, 2, 3])],
    ['a Decimal at the top (a JSON number to Prisma)', new Prisma.Decimal('2.5')],
    ['a Decimal inside an object (its string)', { amount: new Prisma.Decimal('-0.001') }],
  ])('%s', async (_what, value) => {
    const expected = await viaPrisma(value);
    const created = await h.prisma.document.create({ data: { tenantId: 'acme', title: 't', body: value as never } });
    expect(created.body).toEqual(expected);
    const read = await h.fresh().prisma.document.findUniqueOrThrow({ where: { id: created.id } });
    expect(read.body).toEqual(expected);
  });
});
