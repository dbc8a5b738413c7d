/**
 * Prisma's validation errors print the invocation's arguments with their values. An argument
 * shape hushfield does not rewrite would therefore put an encrypted field's plaintext into an
 * error message (and the application's logs): such shapes are rewritten or refused first.
 */
import { inspect } from 'node:util';
import { computedBlindIndex } from '@hushfield/prisma';
import { InvalidArgumentError } from '@hushfield/core';
import { createHarness, expectNoPlaintextInLog, type Harness } from './support';

describe('fieldEncryption: no plaintext in the errors of invalid argument shapes', () => {
  let h: Harness;
  // Used through variables only: Prisma's messages quote the calling source lines too.
  const externalId = ['gh', 'zed'].join('-');
  const email = ['zed', 'example.com'].join('@');
  const secrets = [externalId, email];

  beforeAll(async () => {
    h = await createHarness();
    await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 'acme',
        name: 'zed',
        email,
        posts: { create: { title: 't', body: 'b' } },
        accounts: { create: { provider: 'github', externalId, externalIdIdx: computedBlindIndex } },
      },
    });
  });
  afterEach(() => {
    expectNoPlaintextInLog(h.queries, secrets);
  });
  afterAll(async () => {
    await h.close();
  });

  async function failure(fn: () => Promise<unknown>): Promise<Error> {
    const error = await fn().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }

  const expectNoSecret = (error: Error) => {
    const text = `${error.message}\n${error.stack}\n${JSON.stringify(error)}`;
    for (const secret of secrets) expect(text.includes(secret)).toBe(false);
  };

  it('refuses a filter object inside a compound unique input before Prisma can echo it', async () => {
    const error = await failure(() =>
      h.prisma.account.findUnique({
        where: { provider_externalIdIdx: { provider: 'github', externalIdIdx: { equals: externalId } } } as never,
      }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expectNoSecret(error);
  });

  it('rewrites a relation filter that mixes is/some with direct filters before Prisma can echo it', async () => {
    const toOne = await failure(() =>
      h.prisma.post.findMany({ where: { author: { is: { email }, name: 'zed' } } as never }),
    );
    expectNoSecret(toOne);
    const toMany = await failure(() =>
      h.prisma.user.findMany({ where: { accounts: { some: { provider: 'github' }, externalId } } as never }),
    );
    expectNoSecret(toMany);
  });

  it('takes the values of encrypted fields out of the error of a shape it does not rewrite (arrays for objects)', async () => {
    const notes = ['zed', 'notes', 'kept'].join('-');
    const shapes: [string, () => Promise<unknown>][] = [
      ['a where array', () => h.prisma.user.findMany({ where: [{ email }] } as never)],
      ['an array inside OR', () => h.prisma.user.findMany({ where: { OR: [[{ email }]] } } as never)],
      ['a relation filter array', () => h.prisma.post.findMany({ where: { author: { is: [{ email }] } } } as never)],
      ['a some array', () => h.prisma.user.findMany({ where: { accounts: { some: [{ externalId }] } } } as never)],
      ['a count where array', () => h.prisma.user.count({ where: [{ email }] } as never)],
      ['an update where array', () => h.prisma.user.updateMany({ where: [{ email }], data: { name: 'z' } } as never)],
      [
        'a data array',
        () =>
          h.prisma.user.create({
            data: [{ tenantId: 'acme', name: 'n', email, emailIdx: computedBlindIndex }],
          } as never),
      ],
      ['an updateMany data array', () => h.prisma.user.updateMany({ where: {}, data: [{ notes }] } as never)],
      [
        'a nested create array of arrays',
        () =>
          h.prisma.user.create({
            data: {
              tenantId: 'acme',
              name: 'n',
              email: 'other@example.com',
              emailIdx: computedBlindIndex,
              accounts: { create: [[{ provider: 'gitlab', externalId, externalIdIdx: computedBlindIndex }]] },
            },
          } as never),
      ],
      ['a cursor array', () => h.prisma.user.findMany({ cursor: [{ emailIdx: email }] } as never)],
      [
        'numbers, dates and keys in a Json value, in a data array',
        () =>
          h.prisma.document.create({
            data: [
              {
                tenantId: 'acme',
                title: 't',
                body: { pin: 4242424242, born: new Date('1971-02-03T04:05:06.789Z'), 'acct-9931-key': true },
              },
            ],
          } as never),
      ],
    ];
    for (const [shape, call] of shapes) {
      const error = await failure(call);
      // still Prisma's error, with its class and explanation: only the values are withheld
      expect([shape, error.constructor.name]).toEqual([shape, expect.stringMatching(/^PrismaClient/)]);
      const text = `${error.message}\n${error.stack}`;
      for (const secret of [...secrets, notes, '4242424242', '1971-02-03', 'acct-9931-key'])
        expect([shape, secret, text.includes(secret)]).toEqual([shape, secret, false]);
    }
  });

  it('takes out the value given under a mistyped encrypted field name, which Prisma echoes as an unknown argument', async () => {
    const typed = ['ana', 'typo.example'].join('@');
    const ssn = ['078', '05', '1120'].join('-');
    const shapes: [string, () => Promise<unknown>][] = [
      [
        'a create',
        () =>
          h.prisma.user.create({
            data: { tenantId: 'acme', name: 'n', emial: typed, emailIdx: computedBlindIndex },
          } as never),
      ],
      ['a where', () => h.prisma.user.findMany({ where: { Email: typed } } as never)],
      ['an update', () => h.prisma.user.updateMany({ where: {}, data: { snn: ssn } } as never)],
      ['a filter', () => h.prisma.user.findMany({ where: { e_mail: { equals: typed } } } as never)],
      [
        'a nested create',
        () =>
          h.prisma.user.create({
            data: {
              tenantId: 'acme',
              name: 'n',
              email: 'other@example.com',
              emailIdx: computedBlindIndex,
              accounts: { create: { provider: 'gitlab', externalID: typed, externalIdIdx: computedBlindIndex } },
            },
          } as never),
      ],
      // A field of another model (Organization.slug), not of the one it is given for.
      ['a create under another model', () => h.prisma.user.create({ data: { slug: typed } } as never)],
      [
        'a nested create under another model',
        () =>
          h.prisma.user.create({
            data: {
              tenantId: 'acme',
              name: 'n',
              email: 'other@example.com',
              emailIdx: computedBlindIndex,
              accounts: { create: { provider: 'gitlab', slug: typed, externalIdIdx: computedBlindIndex } },
            },
          } as never),
      ],
    ];
    for (const [shape, call] of shapes) {
      const error = await failure(call);
      expect([shape, error.constructor.name]).toEqual([shape, expect.stringMatching(/^PrismaClient/)]);
      const text = `${error.message}\n${error.stack}`;
      for (const secret of [typed, ssn]) expect([shape, secret, text.includes(secret)]).toEqual([shape, secret, false]);
    }
    // A value under a field that exists and is not sensitive stays in the message, to debug by.
    const error = await failure(() =>
      h.prisma.user.findMany({ where: { tenantId: 'kept-tenant', emial: typed } } as never),
    );
    expect(error.message).toContain('kept-tenant');
    // And under a relation, a field of its target.
    const nested = await failure(() =>
      h.prisma.user.create({
        data: {
          tenantId: 'acme',
          name: 'n',
          email: 'other@example.com',
          emailIdx: computedBlindIndex,
          accounts: { create: { provider: 'kept-provider', slug: typed, externalIdIdx: computedBlindIndex } },
        },
      } as never),
    );
    expect(nested.message).toContain('kept-provider');
  });

  it("takes out a value under one of Prisma's operators misplaced among the fields, or a value where Prisma takes an object", async () => {
    const typed = ['alice', 'example.com'].join('@');
    const shapes: [string, () => Promise<unknown>][] = [
      ['equals in a where', () => h.prisma.user.findMany({ where: { equals: typed } } as never)],
      ['in in a where', () => h.prisma.user.findMany({ where: { tenantId: 'acme', in: [typed] } } as never)],
      [
        'set in a create',
        () =>
          h.prisma.user.create({
            data: { tenantId: 'acme', name: 'n', set: typed, email: 'o@example.com', emailIdx: computedBlindIndex },
          } as never),
      ],
      ['AND given a string', () => h.prisma.user.findMany({ where: { AND: typed } } as never)],
      ['OR given strings', () => h.prisma.user.findMany({ where: { OR: [typed] } } as never)],
      ['a relation given a string', () => h.prisma.post.findMany({ where: { author: typed } } as never)],
      [
        'in a batch transaction',
        () => h.prisma.$transaction([h.prisma.user.findMany({ where: { emial: typed } } as never)]),
      ],
      [
        'in an interactive transaction',
        () => h.prisma.$transaction((tx) => tx.user.findMany({ where: { emial: typed } } as never)),
      ],
    ];
    for (const [shape, call] of shapes) {
      const error = await failure(call);
      expect([shape, error.constructor.name]).toEqual([shape, expect.stringMatching(/^PrismaClient/)]);
      // the message, String(error), and every own property (hidden ones too) of the error
      const text = `${String(error)}\n${inspect(error, { showHidden: true, depth: 8 })}\n${JSON.stringify(error)}`;
      expect([shape, text.includes(typed)]).toEqual([shape, false]);
      // Prisma's explanation stays
      expect([shape, error.message]).toEqual([shape, expect.stringMatching(/Unknown argument|Invalid value/)]);
    }
  });

  it("keeps what tells the developer what is wrong: the mistyped name, Prisma's explanation, the model's other values", async () => {
    const typed = ['alice', 'example.com'].join('@');
    const error = await failure(() => h.prisma.user.findMany({ where: { name: 'kept-name', emial: typed } } as never));
    expect(String(error)).not.toContain(typed);
    expect(error.message).toContain('Unknown argument `emial`');
    // User.name is not encrypted (another model's name is): its value stays
    expect(error.message).toContain('kept-name');
  });
  it("takes out a value under one of Prisma's operators misplaced among an upsert's update fields, top-level and nested", async () => {
    const typed = ['alice', 'example.com'].join('@');
    const user = await h.prisma.user.findFirstOrThrow({ where: { tenantId: 'acme' } });
    const shapes: [string, () => Promise<unknown>][] = [
      [
        'set in an upsert update',
        () =>
          h.prisma.user.upsert({
            where: { id: user.id },
            create: { tenantId: 'acme', name: 'n', email: 'o@example.com', emailIdx: computedBlindIndex },
            update: { set: typed },
          } as never),
      ],
      [
        'set in a nested to-one update',
        () =>
          h.prisma.post.updateMany({
            where: { title: 'none' },
            data: { author: { update: { set: typed } } },
          } as never),
      ],
      [
        'equals in a nested upsert update',
        () =>
          h.prisma.user.update({
            where: { id: user.id },
            data: {
              posts: { upsert: { where: { id: 1 }, create: { title: 't', body: 'b' }, update: { equals: typed } } },
            },
          } as never),
      ],
    ];
    for (const [shape, call] of shapes) {
      const error = await failure(call);
      const text = `${String(error)}\n${inspect(error, { showHidden: true, depth: 8 })}\n${JSON.stringify(error)}`;
      expect([shape, text.includes(typed)]).toEqual([shape, false]);
    }
  });

  it("takes out a value under one of Prisma's operators misplaced in a nested where (deleteMany, delete, disconnect, set)", async () => {
    const typed = ['alice', 'example.com'].join('@');
    const user = await h.prisma.user.findFirstOrThrow({ where: { tenantId: 'acme' } });
    for (const op of ['deleteMany', 'delete', 'disconnect', 'set']) {
      const where = op === 'deleteMany' ? { equals: typed } : [{ equals: typed }];
      const error = await failure(() =>
        h.prisma.user.update({ where: { id: user.id }, data: { posts: { [op]: where } } } as never),
      );
      const text = `${String(error)}\n${inspect(error, { showHidden: true, depth: 8 })}\n${JSON.stringify(error)}`;
      expect([op, text.includes(typed)]).toEqual([op, false]);
    }
  });

  it("takes out a value under one of Prisma's operators misplaced among an operation's arguments", async () => {
    const typed = ['alice', 'example.com'].join('@');
    const user = await h.prisma.user.findFirstOrThrow({ where: { tenantId: 'acme' } });
    const shapes: [string, () => Promise<unknown>][] = [
      ['findMany', () => h.prisma.user.findMany({ equals: typed } as never)],
      [
        'a nested connectOrCreate',
        () =>
          h.prisma.user.update({
            where: { id: user.id },
            data: { posts: { connectOrCreate: { equals: typed } } },
          } as never),
      ],
    ];
    for (const [shape, call] of shapes) {
      const error = await failure(call);
      const text = `${String(error)}\n${inspect(error, { showHidden: true, depth: 8 })}\n${JSON.stringify(error)}`;
      expect([shape, text.includes(typed)]).toEqual([shape, false]);
    }
  });
});
