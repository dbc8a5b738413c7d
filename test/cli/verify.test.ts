/**
 * Monitoring for tampering (issue 11): `status --verify` exits 3 when it finds values the
 * application cannot read (a ciphertext moved to another row, a value overwritten with
 * plaintext), and `doctor` fails its sampled-values check with the counts by error code.
 * Values under a shredded scope do not count: a shred makes them unreadable on purpose.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { appClient, createCliWorld } from './support';
import type { CliWorld } from './support';
import { describeOn } from '../support/provider';

let world: CliWorld;
const ids: string[] = [];

beforeAll(async () => {
  world = await createCliWorld();
  const app = appClient(world);
  for (let i = 0; i < 4; i++) {
    const user = await app.user.create({
      data: { tenantId: 'verify', name: `v${i}`, email: `verify-${i}@example.com`, emailIdx: computedBlindIndex },
    });
    ids.push(user.id);
  }
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('status --verify exits 0 while every value reads', async () => {
  const result = await world.runCli(['status', '--model', 'User', '--verify', '--json']);
  expect(result.code).toBe(0);
  expect(result.json.verify).toEqual({ unreadable: 0, staleIndexValues: 0 });
});

test('status --verify exits 3 and counts what the application cannot read; without --verify it still exits 0', async () => {
  const [saved] = await world.db.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [ids[0]]);
  // A ciphertext copied to another row fails to decrypt there (it is bound to its row id).
  await world.db.query('UPDATE users SET email = (SELECT email FROM users WHERE id = $1) WHERE id = $2', [
    ids[1],
    ids[0],
  ]);
  // Plaintext written past the extension into a strict field.
  await world.db.query("UPDATE users SET email = 'planted@example.com' WHERE id = $1", [ids[2]]);

  const verified = await world.runCli(['status', '--model', 'User', '--verify', '--json']);
  expect(verified.code).toBe(3);
  expect(verified.json.verify).toEqual({ unreadable: 2, staleIndexValues: 0 });
  const email = verified.json.models[0].fields.find((field: { field: string }) => field.field === 'email');
  expect(email).toMatchObject({ plaintext: 1, unreadable: { HUSHFIELD_DECRYPTION_FAILED: 1 } });

  const human = await world.runCli(['status', '--model', 'User', '--verify']);
  expect(human.code).toBe(3);
  expect(human.stdout).toContain('verify: 2 value(s) the application cannot read');
  expect(human.stdout).not.toContain('verify-0@example.com');

  expect((await world.runCli(['status', '--model', 'User', '--json'])).code).toBe(0);

  const doctor = await world.runCli(['doctor', '--json']);
  expect(doctor.code).toBe(1);
  const values = doctor.json.checks.filter((check: { check: string }) => check.check === 'values');
  expect(values).toEqual([
    expect.objectContaining({
      level: 'fail',
      detail: { model: 'User', sampled: 3, unreadable: { HUSHFIELD_DECRYPTION_FAILED: 1 } },
    }),
  ]);
  expect(values[0].message).toContain('User: 1 of 3 sampled value(s) fail to decrypt');

  await world.db.query('UPDATE users SET email = $1 WHERE id = $2', [saved.email, ids[0]]);
  await world.db.query('DELETE FROM users WHERE id = $1', [ids[2]]);
  expect((await world.runCli(['status', '--model', 'User', '--verify'])).code).toBe(0);
  const healthy = await world.runCli(['doctor', '--json']);
  expect(healthy.json.checks.filter((check: { check: string }) => check.check === 'values')).toEqual([]);
});

describeOn(['postgresql'], 'scalar lists (String[]) are a PostgreSQL feature')('a list field', () => {
  test('status --verify and doctor count an unreadable list once, as one value, whatever its elements', async () => {
    const app = appClient(world);
    const doc = await app.document.create({
      data: { tenantId: 'verify-list', title: 'T', body: { a: 1 }, tags: ['one', 'two', 'three'] },
    });
    // Two elements swapped in SQL: each is bound to its position, so both fail to decrypt.
    await world.db.query('UPDATE documents SET tags = ARRAY[tags[2], tags[1], tags[3]] WHERE id = $1', [doc.id]);
    try {
      const verified = await world.runCli(['status', '--model', 'Document', '--verify', '--json']);
      expect(verified.code).toBe(3);
      expect(verified.json.verify).toEqual({ unreadable: 1, staleIndexValues: 0 });
      const tags = verified.json.models[0].fields.find((field: { field: string }) => field.field === 'tags');
      expect(tags).toMatchObject({ unreadable: { HUSHFIELD_DECRYPTION_FAILED: 1 } });

      const doctor = await world.runCli(['doctor', '--json']);
      const values = doctor.json.checks.filter((check: { check: string }) => check.check === 'values');
      // Sampled: the body and the tags (the other fields are null), each one value.
      expect(values).toEqual([
        expect.objectContaining({
          level: 'fail',
          detail: { model: 'Document', sampled: 2, unreadable: { HUSHFIELD_DECRYPTION_FAILED: 1 } },
        }),
      ]);
      expect(values[0].message).toContain('Document: 1 of 2 sampled value(s) fail to decrypt');
    } finally {
      await world.db.query('DELETE FROM documents WHERE id = $1', [doc.id]);
    }
  });
});

test('values under a shredded scope do not make status --verify fail', async () => {
  await world.crypto().keys.destroyScope('verify');
  const result = await world.runCli(['status', '--model', 'User', '--verify', '--json']);
  expect(result.code).toBe(0);
  expect(result.json.models[0]).toMatchObject({ rowsDestroyed: 3 });
});
