/**
 * Issue 12 item 1: a key-store row relabelled in SQL must not redirect writes. The wrap context
 * binds each scope key to its scope, so a cold process fails to unwrap a relabelled row; a
 * process with the key cached must refuse it just the same, never seal another scope's rows
 * under it (shredding that scope would then miss them).
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { HushfieldError, KeyringError } from '@hushfield/core';
import { createHarness, type Harness, rejection } from './support';

describe('fieldEncryption: a key-store row relabelled to another scope', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  async function keyIdOf(scope: string): Promise<string> {
    const [row] = await h.db.query<{ key_id: string }>(
      `SELECT key_id FROM hushfield_keys WHERE kind = 'scope' AND scope = $1 AND state = 'active'`,
      [scope],
    );
    return row.key_id;
  }

  async function envelopesOf(tenant: string): Promise<string[]> {
    const rows = await h.db.query<{ email: string }>('SELECT email FROM users WHERE "tenantId" = $1', [tenant]);
    return rows.map((row) => row.email);
  }

  it.each([
    ['a process holding the key cached', false],
    ['a process with cold caches', true],
  ])("%s refuses to seal the victim's rows under another tenant's key", async (_name, cold) => {
    const other = `other-${cold}`;
    const victim = `victim-${cold}`;
    await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: other, name: 'O', email: `o-${cold}@example.com` },
    });
    const otherKey = await keyIdOf(other);
    // The attacker relabels the other tenant's key as the (new) victim's.
    await h.db.query(`UPDATE hushfield_keys SET scope = $1 WHERE key_id = $2`, [victim, otherKey]);
    const client = cold ? h.fresh().prisma : h.prisma;
    const error = await rejection(
      client.user.create({
        data: { emailIdx: computedBlindIndex, tenantId: victim, name: 'V', email: `v-${cold}@example.com` },
      }),
    );
    expect(error).toBeInstanceOf(KeyringError);
    expect(error).toBeInstanceOf(HushfieldError);
    expect((error as Error).message).not.toContain('example.com');
    expect(await envelopesOf(victim)).toEqual([]);
    // Refused again on the next write (the relabelled row is not trusted once read).
    await expect(
      client.user.create({
        data: { emailIdx: computedBlindIndex, tenantId: victim, name: 'V', email: `v2-${cold}@example.com` },
      }),
    ).rejects.toBeInstanceOf(KeyringError);
    expect(await envelopesOf(victim)).toEqual([]);
    // The cached key still serves the scope it was unwrapped for once the row is put back.
    await h.db.query(`UPDATE hushfield_keys SET scope = $1 WHERE key_id = $2`, [other, otherKey]);
    const fresh = h.fresh().prisma;
    for (const reader of [h.prisma, fresh]) {
      expect((await reader.user.findMany({ where: { tenantId: other } })).map((u) => u.email)).toEqual([
        `o-${cold}@example.com`,
      ]);
    }
  });
});
