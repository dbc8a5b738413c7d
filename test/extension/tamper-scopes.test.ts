import { computedBlindIndex } from '@hushfield/prisma';
import { randomBytes } from 'node:crypto';
import { type AuditEvent, DecryptionError, KeyDestroyedError, LocalKeyring } from '@hushfield/core';
import { CountingKeyring, createHarness, type Harness, rejection } from './support';

describe('fieldEncryption: tampering, scopes and key-cache sharing', () => {
  let h: Harness;
  const keyring = new CountingKeyring(new LocalKeyring(randomBytes(32)));

  beforeAll(async () => {
    h = await createHarness({ keyring });
  });
  afterAll(async () => {
    await h.close();
  });

  it('rejects a ciphertext moved to another row', async () => {
    const a = await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'A', email: 'swap-a@example.com' },
    });
    const b = await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'B', email: 'swap-b@example.com' },
    });
    await h.db.query('UPDATE users SET email = (SELECT email FROM users WHERE id = $1) WHERE id = $2', [a.id, b.id]);
    const error = await rejection(h.prisma.user.findUnique({ where: { id: b.id } }));
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error).toMatchObject({ code: 'HUSHFIELD_DECRYPTION_FAILED', model: 'User', field: 'email', rowId: b.id });
    expect((error as Error).message).not.toContain('swap-a@example.com');
    expect((await h.prisma.user.findUniqueOrThrow({ where: { id: a.id } })).email).toBe('swap-a@example.com');
  });

  it('rejects a ciphertext moved to another column of the same row', async () => {
    const user = await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'C', email: 'col@example.com', notes: 'a note' },
    });
    await h.db.query('UPDATE users SET notes = email WHERE id = $1', [user.id]);
    const error = await rejection(h.prisma.user.findUnique({ where: { id: user.id } }));
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error).toMatchObject({ model: 'User', field: 'notes', rowId: user.id });
  });

  it('rejects a ciphertext moved to another model', async () => {
    const user = await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'default', name: 'D', email: 'model@example.com' },
    });
    const post = await h.prisma.post.create({ data: { title: 'p', body: 'post body', authorId: user.id } });
    await h.db.query('UPDATE posts SET body = (SELECT email FROM users WHERE id = $1) WHERE id = $2', [
      user.id,
      post.id,
    ]);
    const error = await rejection(h.prisma.post.findUnique({ where: { id: post.id } }));
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error).toMatchObject({ model: 'Post', field: 'body' });
  });

  it('shredding one scope makes exactly that tenant unreadable while the other keeps working', async () => {
    const doomed = await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 'doomed',
        name: 'Doomed',
        email: 'doomed@example.com',
        ssn: '111-22-3333',
      },
    });
    const kept = await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 'kept',
        name: 'Kept',
        email: 'kept@example.com',
        ssn: '444-55-6666',
      },
    });
    expect(await h.prisma.$hushfield.crypto.keys.destroyScope('doomed')).toBeGreaterThan(0);
    const error = await rejection(h.prisma.user.findUnique({ where: { id: doomed.id } }));
    expect(error).toBeInstanceOf(KeyDestroyedError);
    expect(error).toMatchObject({ code: 'HUSHFIELD_KEY_DESTROYED', scope: 'doomed', model: 'User', rowId: doomed.id });
    expect(await h.prisma.user.findUnique({ where: { id: doomed.id }, select: { name: true } })).toEqual({
      name: 'Doomed',
    });
    expect((await h.prisma.user.findUniqueOrThrow({ where: { id: kept.id } })).ssn).toBe('444-55-6666');
    const other = h.fresh();
    await expect(other.prisma.user.findUnique({ where: { id: doomed.id } })).rejects.toBeInstanceOf(KeyDestroyedError);
    const lenient = h.fresh({ onDecryptError: 'null' });
    expect(
      await lenient.prisma.user.findUnique({
        where: { id: doomed.id },
        select: { email: true, ssn: true, name: true },
      }),
    ).toEqual({
      email: null,
      ssn: null,
      name: 'Doomed',
    });
    expect((await other.prisma.user.findUniqueOrThrow({ where: { emailIdx: 'kept@example.com' } })).email).toBe(
      'kept@example.com',
    );
  });

  it('reports keyring and key lifecycle events with the actor to the audit sink, without key material', async () => {
    const events: AuditEvent[] = [];
    const { prisma } = h.fresh({
      audit: { emit: (event) => void events.push(event) },
      actor: () => ({ user: 'auditor' }),
    });
    await prisma.user.create({
      data: { tenantId: 'audited', name: 'Au', email: 'audit@example.com', emailIdx: computedBlindIndex },
    });
    const created = events.find((event) => event.operation === 'key.create' && event.scope === 'audited');
    expect(created).toMatchObject({ outcome: 'success', kind: 'scope', actor: { user: 'auditor' } });
    expect(JSON.stringify(events)).not.toContain('audit@example.com');
  });

  it('a findMany over many rows of one scope costs at most one keyring call with cold caches', async () => {
    await h.prisma.user.createMany({
      data: Array.from({ length: 300 }, (_, i) => ({
        emailIdx: computedBlindIndex,
        tenantId: 'bulk',
        name: 'bulk',
        email: `bulk${i}@example.com`,
        ssn: `${i}`,
        notes: `note ${i}`,
      })),
    });
    const { prisma } = h.fresh();
    keyring.calls = 0;
    const users = await prisma.user.findMany({ where: { tenantId: 'bulk' } });
    expect(users).toHaveLength(300);
    expect(users.map((user) => user.notes)).toContain('note 299');
    expect(keyring.calls).toBe(1);
    expect(prisma.$hushfield.stats().keyringCalls).toBe(1);
    await prisma.user.findMany({ where: { tenantId: 'bulk' } });
    expect(keyring.calls).toBe(1);
  });
});
