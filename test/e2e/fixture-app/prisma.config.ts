import { defineConfig } from 'prisma/config';

// `prisma generate` needs no database; `prisma migrate` would read this URL.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/unused' },
});
