import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { LocalKeyring, MemoryKeyStore } from '@hushfield/core';
import type { HushfieldSchema } from '@hushfield/prisma';
import { CommandContext } from './context';
import { Output } from './output';

function context(disconnect: () => Promise<void>): CommandContext {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() };
  return new CommandContext(
    {
      path: 'hushfield.config.ts',
      module: {},
      config: {
        schema: { models: {} } as unknown as HushfieldSchema,
        keyring: new LocalKeyring(randomBytes(32)),
        keyStore: new MemoryKeyStore(),
        prisma: () => ({ $disconnect: disconnect }),
      },
    },
    new Output({ ...io, stdinIsTTY: false, stderrIsTTY: false }, false),
  );
}

describe('CommandContext.close', () => {
  test('zeroes the keys the invocation cached, and disconnects the client it opened', async () => {
    const disconnect = jest.fn(async () => undefined);
    const ctx = context(disconnect);
    await ctx.client();
    const crypto = await ctx.crypto();
    (await crypto.rowEncryptor('tenant-1')).dispose();
    expect(crypto.stats().entries).toBeGreaterThan(0);
    await ctx.close();
    expect(crypto.stats().entries).toBe(0);
    expect(disconnect).toHaveBeenCalledTimes(1);
  });

  test('clears the cache even when the client fails to disconnect', async () => {
    const ctx = context(async () => {
      throw new Error('connection reset');
    });
    await ctx.client();
    const crypto = await ctx.crypto();
    (await crypto.rowEncryptor('tenant-1')).dispose();
    await ctx.close();
    expect(crypto.stats().entries).toBe(0);
  });
});
