/**
 * Prisma's validation errors print the invocation's arguments with their values. An argument
 * shape hushfield does not rewrite would therefore put an encrypted field's plaintext into an
 * error message (and the application's logs): such shapes are rewritten or refused first.
 */
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
    const text = `${error.message}\n${JSON.stringify(error)}`;
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
});
