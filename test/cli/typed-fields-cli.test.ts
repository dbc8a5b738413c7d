/**
 * The CLI on encrypted `Json`, `Bytes` and `String[]` fields (the `Document` model), on every
 * backend the harness has: `reencrypt` seals legacy plaintext of `migrating` fields and moves
 * envelopes to a rotated key, `status` counts and verifies them, `decrypt` writes `readonly`
 * fields back as plaintext of their own type, and a damaged list fails its row without a write.
 */
import type { EncryptedFieldMeta, HushfieldSchema } from '@hushfield/prisma';
import { describeOn } from '../support/provider';
import { appClient, createCliWorld, schema, type CliWorld } from './support';

const backends: ('pglite' | 'postgres')[] = process.env.TEST_DATABASE_URL ? ['postgres', 'pglite'] : ['pglite'];

/** The test schema with every Document field in `mode`. */
function documentsIn(mode: EncryptedFieldMeta['mode']): HushfieldSchema {
  const document = schema.models.Document;
  const encrypted = Object.fromEntries(
    Object.entries(document.encrypted).map(([name, field]) => [name, { ...field, mode }]),
  );
  return { ...schema, models: { ...schema.models, Document: { ...document, encrypted } } };
}

const ROWS = 30;
const bodyOf = (i: number) => ({ n: i, name: `patient-${i}`, list: [i, { deep: `deep-${i}` }] });
const blobOf = (i: number) => Buffer.from(`bytes-of-row-${i}-`.repeat(i % 3), 'latin1');
const tagsOf = (i: number) => (i % 5 === 0 ? [] : [`tag-a-${i}`, `tag-b-${i}`, `tag-a-${i}`].slice(0, 1 + (i % 3)));

describeOn(['postgresql'], 'String[] is a PostgreSQL scalar list; neither MySQL nor SQLite has one')(
  'typed fields',
  () => {
    describe.each(backends)('the CLI on Json, Bytes and String[] fields (%s)', (backend) => {
      let world: CliWorld;
      const ids: string[] = [];
      const field = (result: { json: { models: { model: string; fields: { field: string }[] }[] } }, name: string) =>
        result.json.models.find((m) => m.model === 'Document')!.fields.find((f) => f.field === name);
      const stored = () =>
        world.db.query<{ id: string; body: unknown; meta: unknown; blob: Uint8Array | null; tags: string[] }>(
          'SELECT id, body, meta, blob, tags FROM documents ORDER BY id',
        );
      const expectOriginals = async () => {
        const app = appClient(world);
        for (const [i, id] of ids.entries()) {
          const row = await app.document.findUniqueOrThrow({ where: { id } });
          expect(row.body).toEqual(bodyOf(i));
          expect(row.meta).toEqual(i % 2 === 0 ? null : { odd: i });
          expect(Buffer.from(row.blob!).equals(blobOf(i))).toBe(true);
          expect(row.tags).toEqual(tagsOf(i));
        }
      };

      beforeAll(async () => {
        world = await createCliWorld(backend);
        for (let i = 0; i < ROWS; i++) {
          const id = `doc-${String(i).padStart(3, '0')}`;
          ids.push(id);
          await world.db.query(
            'INSERT INTO documents (id, tenant_id, title, body, meta, blob, tags) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7)',
            [
              id,
              'acme',
              't',
              JSON.stringify(bodyOf(i)),
              i % 2 === 0 ? null : JSON.stringify({ odd: i }),
              blobOf(i),
              tagsOf(i),
            ],
          );
        }
      }, 120_000);
      afterAll(async () => {
        await world?.close();
      });

      it('status counts legacy plaintext; reencrypt seals it; the application reads the originals', async () => {
        const before = await world.runCli(['status', '--model', 'Document', '--json'], {
          config: { schema: documentsIn('migrating') },
        });
        expect(field(before, 'body')).toMatchObject({ plaintext: ROWS });
        expect(field(before, 'meta')).toMatchObject({ plaintext: ROWS / 2, nulls: ROWS / 2 });
        expect(field(before, 'blob')).toMatchObject({ plaintext: ROWS });
        const result = await world.runCli(['reencrypt', '--model', 'Document', '--batch', '7', '--json'], {
          config: { schema: documentsIn('migrating') },
        });
        expect(result.code).toBe(0);
        expect(result.json.models[0]).toMatchObject({ model: 'Document', written: ROWS, failed: 0 });
        for (const row of await stored()) {
          expect(String(row.body).startsWith('hfe$')).toBe(true);
          expect(Buffer.from(row.blob!).subarray(0, 3).toString('latin1')).toBe('hfb');
          for (const tag of row.tags) expect(tag.startsWith('hfe$')).toBe(true);
          const text = JSON.stringify(row);
          expect(text).not.toContain('patient-');
          expect(text).not.toContain('tag-a-');
          expect(Buffer.from(row.blob!).includes(Buffer.from('bytes-of-row'))).toBe(false);
        }
        await expectOriginals();
        const verified = await world.runCli(['status', '--model', 'Document', '--verify', '--json']);
        expect(verified.code).toBe(0);
        expect(field(verified, 'tags')).toMatchObject({ plaintext: 0, malformed: 0, current: ROWS });
        expect(field(verified, 'blob')).toMatchObject({ plaintext: 0, current: ROWS });
      });

      it('reencrypt moves every type to a rotated key', async () => {
        expect((await world.runCli(['keys', 'rotate', '--scope', 'acme', '--json'])).code).toBe(0);
        const status = await world.runCli(['status', '--model', 'Document', '--json']);
        expect(field(status, 'body')).toMatchObject({ retired: ROWS });
        const result = await world.runCli(['reencrypt', '--model', 'Document', '--json']);
        expect(result.json.models[0]).toMatchObject({ written: ROWS, failed: 0 });
        const after = await world.runCli(['status', '--model', 'Document', '--verify', '--json']);
        expect(after.code).toBe(0);
        for (const name of ['body', 'blob', 'tags']) expect(field(after, name)).toMatchObject({ retired: 0 });
        await expectOriginals();
      });

      it('a damaged list fails its row (nothing written) and --verify counts it', async () => {
        const [first] = await stored();
        const other = (await stored()).find((row) => row.tags.length > 1 && row.id !== first.id)!;
        const reordered = [...other.tags].reverse();
        await world.db.query('UPDATE documents SET tags = $1 WHERE id = $2', [reordered, other.id]);
        const verified = await world.runCli(['status', '--model', 'Document', '--verify', '--json']);
        expect(verified.code).toBe(3);
        expect(field(verified, 'tags')).toMatchObject({ unreadable: { HUSHFIELD_DECRYPTION_FAILED: 1 } });
        expect((await world.runCli(['keys', 'rotate', '--scope', 'acme', '--json'])).code).toBe(0);
        const result = await world.runCli(['reencrypt', '--model', 'Document', '--json']);
        expect(result.json.models[0]).toMatchObject({ written: ROWS - 1, failed: 1 });
        const [kept] = await world.db.query<{ tags: string[] }>('SELECT tags FROM documents WHERE id = $1', [other.id]);
        expect(kept.tags).toEqual(reordered);
        await world.db.query('UPDATE documents SET tags = $1 WHERE id = $2', [other.tags, other.id]);
      });

      it('decrypt writes readonly fields back as plaintext of their own type', async () => {
        const result = await world.runCli(['decrypt', '--model', 'Document', '--json'], {
          config: { schema: documentsIn('readonly') },
        });
        expect(result.code).toBe(0);
        expect(result.json.models[0]).toMatchObject({ model: 'Document', failed: 0 });
        const rows = await stored();
        for (const [i, row] of rows.entries()) {
          expect(row.body).toEqual(bodyOf(i));
          expect(row.meta).toEqual(i % 2 === 0 ? null : { odd: i });
          expect(Buffer.from(row.blob!).equals(blobOf(i))).toBe(true);
          expect(row.tags).toEqual(tagsOf(i));
        }
      });
    });
  },
);
