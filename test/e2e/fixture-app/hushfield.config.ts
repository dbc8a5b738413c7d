import { defineConfig } from '@hushfield/cli';
import { LocalKeyring } from '@hushfield/core';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './prisma/generated/client/client.js';
import { hushfieldSchema } from './prisma/generated/hushfield/index.js';

export default defineConfig({
  schema: hushfieldSchema,
  keyring: () => LocalKeyring.fromEnv(),
  prisma: () => new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) }),
});
