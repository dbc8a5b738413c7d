import { LocalKeyring } from '@hushfield/core';
import { fieldEncryption } from '@hushfield/prisma';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../prisma/generated/client/client.js';
import { hushfieldSchema } from '../prisma/generated/hushfield/index.js';

export const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) });

export const prisma = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring: LocalKeyring.fromEnv() }));
