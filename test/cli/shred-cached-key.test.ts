/**
 * A scope shredded after a bulk run loaded its key (which the run's cache then still holds),
 * made deterministic with a key store that destroys the scope right after handing its key out:
 * rows of every encrypted type (`Json`, `Bytes`, `String[]`) read under that key are failed,
 * not written (as plaintext by `decrypt`, under their new scope by `--rescope`), and the
 * summary does not count their values as decrypted or moved.
 */
import type { KeyStore, StoredKey } from '@hushfield/core';
import type { EncryptedFieldMeta, HushfieldSchema } from '@hushfield/prisma';
import { PrismaKeyStore } from '@hushfield/prisma';
import type { BasePrismaClient } from '@hushfield/cli';
import { describeOn } from '../support/provider';
import { appClient, createCliWorld, schema, type CliWorld } from './support';

function documentsIn(mode: EncryptedFieldMeta['mode']): HushfieldSchema {
  const document = schema.models.Document;
  const encrypted = Object.fromEntries(Object.entries(document.encrypted).map(([n, f]) => [n, { ...f, mode }]));
  return { ...schema, models: { ...schema.models, Document: { ...document, encrypted } } };
}

/** A key store that destroys scope `erase` once it has handed out one of its keys. */
function shreddingStore(client: BasePrismaClient): KeyStore {
  const real = new PrismaKeyStore(client);
  let shredded = false;
  const after = async (keys: readonly (StoredKey | null)[]) => {
    if (!shredded && keys.some((key) => key?.scope === 'erase')) {
      shredded = true;
      await real.destroy('scope', 'erase');
    }
  };
  return new Proxy(real, {
    get(target, name) {
      if (name === 'getVersion')
        return async (keyId: string, version: number) => {
          const key = await target.getVersion(keyId, version);
          await after([key]);
          return key;
        };
      if (name === 'getVersions')
        return async (refs: Parameters<PrismaKeyStore['getVersions']>[0]) => {
          const keys = await target.getVersions(refs);
          await after(keys);
          return keys;
        };
      const value = Reflect.get(target, name) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as KeyStore;
}

describeOn(['postgresql'], 'String[] is a PostgreSQL scalar list')('a scope shredded while its key is cached', () => {
  let world: CliWorld;
  const rowsOf = (tenant: string) =>
    world.db.query(`SELECT id, body, meta, blob, tags FROM documents WHERE tenant_id = $1 ORDER BY id`, [tenant]);

  beforeEach(async () => {
    world = await createCliWorld();
    const app = appClient(world);
    for (let i = 0; i < 40; i++) {
      await app.document.create({
        data: {
          id: `doc-${String(i).padStart(3, '0')}`,
          tenantId: i % 2 ? 'erase' : 'keep',
          title: 't',
          body: { secret: `body-${i}` },
          meta: { m: i },
          blob: Buffer.from(`blob-${i}`),
          tags: [`tag-${i}`],
        },
      });
    }
    // Rows whose only sealed value is a Bytes or a String[] value.
    await world.db.query(
      `UPDATE documents SET body = '{"x":1}'::jsonb, meta = NULL, tags = '{}' WHERE tenant_id = 'erase' AND right(id, 1) IN ('1', '5')`,
    );
    await world.db.query(
      `UPDATE documents SET body = '{"x":1}'::jsonb, meta = NULL, blob = NULL WHERE tenant_id = 'erase' AND right(id, 1) IN ('3', '7')`,
    );
  }, 120_000);

  afterEach(async () => {
    await world?.close();
  });

  test('decrypt writes none of its rows back as plaintext, nor counts their values decrypted', async () => {
    const before = await rowsOf('erase');
    const run = await world.runCli(['decrypt', '--model', 'Document', '--batch', '10', '--json'], {
      config: { schema: documentsIn('readonly'), keyStore: shreddingStore },
    });
    expect(await rowsOf('erase')).toEqual(before);
    expect(run.code).toBe(3);
    // 20 rows of scope keep, 4 values each.
    expect(run.json.models[0]).toMatchObject({ written: 20, failed: 20, decrypted: 80 });
    expect(new Set(run.json.models[0].failures.map((f: { code: string }) => f.code))).toEqual(
      new Set(['HUSHFIELD_KEY_DESTROYED']),
    );
  });

  test('reencrypt --rescope moves none of its rows to their new scope, nor counts them moved', async () => {
    await world.db.query(`UPDATE documents SET tenant_id = 'moved' WHERE tenant_id = 'erase'`);
    const before = await rowsOf('moved');
    const run = await world.runCli(['reencrypt', '--model', 'Document', '--rescope', '--batch', '10', '--json'], {
      config: { keyStore: shreddingStore },
    });
    expect(await rowsOf('moved')).toEqual(before);
    expect(run.code).toBe(3);
    expect(run.json.models[0]).toMatchObject({ written: 0, failed: 20, moved: 0 });
  });
});
