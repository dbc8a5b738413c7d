/**
 * The process of `failed-write-exit.test.ts`: a `createMany` across three tenants whose key
 * creation fails for one of them while the other two are still being created, the client closed
 * on the error as an application does, then nothing more: the process must exit by itself (no
 * `process.exit`). Connects to `DATABASE_URL` on the provider `HUSHFIELD_TEST_PROVIDER` names.
 * Run with `node --import tsx` and `TSX_TSCONFIG_PATH` mapping `@hushfield/*` to the sources.
 */
import { randomBytes } from 'node:crypto';
import { KeyStoreError, LocalKeyring, type NewStoredKey, type StoredKey } from '@hushfield/core';
import { fieldEncryption, PrismaKeyStore } from '@hushfield/prisma';
import { connectChild } from '../support/child-client';

/** Fails the insert of `failing`'s key once the other two tenants' inserts run (300 ms each). */
class FailingWhileOthersRun extends PrismaKeyStore {
  #started = 0;
  #othersStarted!: () => void;
  readonly #others = new Promise<void>((resolve) => (this.#othersStarted = resolve));

  constructor(
    client: unknown,
    private readonly failing: string,
  ) {
    super(client);
  }

  /** Not the default store written out: the extension uses it as given. */
  override isOver(): boolean {
    return false;
  }

  override async insert(key: NewStoredKey): Promise<StoredKey> {
    if (key.scope === this.failing) {
      await this.#others;
      throw new KeyStoreError('the key store transaction timed out (simulated)', key, {});
    }
    if (++this.#started === 2) this.#othersStarted();
    await new Promise((resolve) => setTimeout(resolve, 300));
    return super.insert(key);
  }
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  const { prisma, schema } = await connectChild(url, { connectionLimit: 4 });
  const tenants = ['a', 'b', 'c'].map((name) => `exit-${name}-${randomBytes(3).toString('hex')}`);
  const app = prisma.$extends(
    fieldEncryption({
      schema,
      keyring: new LocalKeyring(randomBytes(32)),
      keyStore: new FailingWhileOthersRun(prisma, tenants[2]),
    }),
  );
  try {
    await app.user.createMany({
      data: tenants.map((tenantId) => ({ tenantId, name: tenantId, email: `owner@${tenantId}.example.com` })),
    });
    process.stdout.write('created\n');
  } catch (error) {
    process.stdout.write(`${error instanceof Error ? error.name : 'error'}\n`);
  } finally {
    await prisma.$disconnect();
    process.stdout.write('disconnected\n');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
  process.exitCode = 1;
});
