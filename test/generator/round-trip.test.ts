/**
 * A reduced application schema (round-trip/schema.prisma: two database schemas, @@map/@map
 * names, a blind index, Json, String[] @default([]), uuid(7) and caller-given ids) through the
 * whole pipeline on PostgreSQL: the real `prisma generate` makes its client and hushfield
 * metadata, an app in a child process writes and reads through the extension, and the tables
 * hold no plaintext of an encrypted field.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, testBackend, type TestDatabase } from '../support/database';
import { describeOn } from '../support/provider';
import { buildGenerator, GENERATOR_BIN, ROOT, runPrismaGenerate } from './run-generate';

jest.setTimeout(300_000);

const HERE = join(__dirname, 'round-trip');
/** Ignored by git (`**\/generated/`), removed after the run. */
const OUT = join(HERE, 'generated');

/** The plaintexts the app writes to encrypted fields; none may reach a table. */
const SECRETS = [
  '7946',
  'Secret-Agent',
  'Example.com',
  'example.com',
  'grace',
  'edsger',
  '078-05-1120',
  '555 0142',
  '555 0143',
  '4567',
  '7654',
];

// PGlite lives in this process, out of the app's reach: the run needs a server.
const reachable = testBackend() !== 'pglite';
if (!reachable)
  process.stdout.write('round-trip.test.ts: skipping: the app in a child process needs a database server\n');

describeOn(['postgresql'], 'the schema has two PostgreSQL schemas')('an application schema end to end', () => {
  let db: TestDatabase;
  let app: { status: number | null; out: string; err: string };

  beforeAll(async () => {
    if (!reachable) return;
    await buildGenerator();
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    const schema = join(OUT, 'schema.prisma');
    writeFileSync(
      schema,
      'generator client {\n  provider     = "prisma-client"\n  output       = "./client"\n  moduleFormat = "cjs"\n}\n\n' +
        `generator hushfield {\n  provider = "node ${GENERATOR_BIN}"\n  output   = "./hushfield"\n}\n\n` +
        readFileSync(join(HERE, 'schema.prisma'), 'utf8'),
    );
    const generated = await runPrismaGenerate(OUT, schema, join(OUT, 'hushfield'));
    if (generated.status !== 0) throw new Error(`prisma generate failed:\n${generated.output}`);
    db = await createTestDatabase();
    for (const statement of readFileSync(join(HERE, 'tables.sql'), 'utf8').split(';\n')) {
      if (statement.trim() !== '') await db.query(statement);
    }
    const child = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(HERE, 'app.ts')], {
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        NODE_PATH: join(ROOT, 'packages/cli/node_modules'),
        ROUND_TRIP_URL: db.url!,
      },
    });
    app = { status: child.status, out: child.stdout, err: child.stderr };
  });

  afterAll(async () => {
    rmSync(OUT, { recursive: true, force: true });
    await db?.close();
  });

  (reachable ? test : test.skip)('the app reads back every value it wrote, through the extension', () => {
    expect(app.err).toBe('');
    expect(app.status).toBe(0);
    const { created, read } = JSON.parse(app.out);
    expect(created).toMatchObject({ mail: 'Ada@Example.com', settings: { ssn: '078-05-1120' }, phones: [] });
    expect(read).toMatchObject({
      phone: '+44 20 7946 0002',
      sessions: [{ userAgent: 'Firefox/Secret-Agent' }],
      profile: { mail: 'Ada@Example.com', phones: ['+1 555 0142', '+1 555 0143'] },
    });
    expect(JSON.parse(app.out)).toMatchObject({
      connected: { mail: 'grace@example.com' },
      underUpdate: { mail: 'edsger@example.com' },
      // Refused before anything was sent: the profile keeps its id and its values open.
      renamed: 'HUSHFIELD_UNSUPPORTED_QUERY',
      relinked: 'HUSHFIELD_UNSUPPORTED_QUERY',
      afterRename: { id: 'acme', taxId: 'GB 123 4567 89' },
      legacy: 'HUSHFIELD_DECRYPTION_FAILED',
      migrated: { id: 'globex', taxId: 'US 98 7654' },
    });
    // uuid(7): the extension made the session's id on the client, as the default would have.
    expect(read.sessions[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  (reachable ? test : test.skip)('the tables hold envelopes and index values, no plaintext', async () => {
    const rows = {
      users: await db.query('SELECT * FROM rt_auth.users'),
      sessions: await db.query('SELECT * FROM rt_auth.sessions'),
      profiles: await db.query('SELECT * FROM public.rt_profiles'),
      billing: await db.query('SELECT * FROM public.rt_billing'),
    };
    const stored = JSON.stringify(rows);
    for (const secret of SECRETS) expect(stored).not.toContain(secret);
    expect(rows.users[0].phone).toMatch(/^hfe\$/);
    expect(rows.sessions[0].user_agent).toMatch(/^hfe\$/);
    expect(rows.profiles[0]).toMatchObject({
      email: expect.stringMatching(/^hfe\$/),
      email_idx: expect.stringMatching(/^v1\./),
    });
    expect(rows.profiles[0].phones).toEqual([expect.stringMatching(/^hfe\$/), expect.stringMatching(/^hfe\$/)]);
  });
});
