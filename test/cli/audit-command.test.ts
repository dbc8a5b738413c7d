/**
 * The durable audit log: `PrismaAuditSink` writes events to the `HushfieldAuditEvent` model in
 * batches without ever blocking a read, and `hushfield audit` lists them by scope, actor and time.
 */
import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring, MemoryKeyStore } from '@hushfield/core';
import type { ActorContext, AuditEvent } from '@hushfield/core';
import { PrismaAuditSink, PrismaKeyStore } from '@hushfield/prisma';
import { createCliWorld } from './support';
import type { CliWorld } from './support';

let world: CliWorld;

beforeAll(async () => {
  world = await createCliWorld();
});

afterAll(async () => {
  await world?.close();
});

const ctx = (rowId: string) => ({ model: 'patients', field: 'ssn', rowId });

test('keyring calls and value decrypts land in the table; audit lists them by scope, actor, time', async () => {
  const sink = new PrismaAuditSink(world.prisma, { batchSize: 50 });
  let actor: ActorContext = { user: 'alice', requestId: 'r-1' };
  const crypto = new FieldCrypto({
    keyring: world.keyring,
    keyStore: new PrismaKeyStore(world.prisma),
    cache: { ttlMs: 60_000 },
    audit: sink,
    actor: () => actor,
    auditDecrypts: true,
  });
  const stored: Record<string, string> = {};
  for (const scope of ['tenant-a', 'tenant-b']) {
    const row = await crypto.rowEncryptor(scope);
    stored[scope] = row.encrypt('078-05-1120', ctx(`${scope}-row`));
    row.dispose();
  }
  actor = { user: 'bob', requestId: 'r-2' };
  expect(await crypto.decrypt(stored['tenant-a'], ctx('tenant-a-row'))).toBe('078-05-1120');
  await sink.close();
  expect(sink.dropped).toBe(0);
  const rows = await world.prisma.hushfieldAuditEvent.findMany();
  expect(rows.length).toBe(sink.written);
  expect(JSON.stringify(rows, (_, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('078-05-1120');

  const byScope = await world.runCli(['audit', '--scope', 'tenant-a', '--json']);
  expect(byScope.code).toBe(0);
  const events = byScope.json.events as (AuditEvent & { id: string })[];
  expect(events.length).toBeGreaterThan(0);
  // value.decrypt events name the key, not the scope: they match through tenant-a's key ids.
  expect(events[0].operation).toBe('value.decrypt');
  expect(events.map((event) => event.operation).sort()).toEqual(['key.create', 'keyring.generate', 'value.decrypt']);
  expect(
    events.filter((event) => event.operation !== 'value.decrypt').every((event) => event.scope === 'tenant-a'),
  ).toBe(true);
  expect(events[0].actor).toEqual({ user: 'bob', requestId: 'r-2' });

  const bob = await world.runCli(['audit', '--actor', 'user=bob', '--json']);
  expect(bob.json.events.map((event: AuditEvent) => event.operation)).toEqual(['value.decrypt']);
  expect(bob.json.events[0]).toMatchObject({ actor: { user: 'bob' }, detail: { model: 'patients', field: 'ssn' } });
  expect((await world.runCli(['audit', '--actor', 'r-2', '--json'])).json.events).toHaveLength(1);

  expect((await world.runCli(['audit', '--since', '1h', '--json'])).json.events.length).toBe(rows.length);
  expect((await world.runCli(['audit', '--until', '2000-01-01', '--json'])).json.events).toEqual([]);
  expect((await world.runCli(['audit', '--limit', '2', '--json'])).json.events).toHaveLength(2);

  const human = await world.runCli(['audit', '--scope', 'tenant-b']);
  expect(human.stdout).toMatch(/key\.create success {2}scope=tenant-b/);
  expect(human.stdout).toContain('actor=user:alice,requestId:r-1');
  expect((await world.runCli(['audit', '--since', 'yesterday'])).code).toBe(2);
  // The model PrismaAuditSink was given, when it is not the default: named, and checked.
  expect((await world.runCli(['audit', '--model', 'HushfieldAuditEvent', '--json'])).json.events.length).toBe(
    rows.length,
  );
  const unknown = await world.runCli(['audit', '--model', 'AuditTrail', '--json']);
  expect([unknown.code, unknown.json.error.name]).toEqual([2, 'ConfigError']);
});

test('a stalled audit table never blocks a read: the queue is bounded and drops are counted', async () => {
  const warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  const stalled = { hushfieldAuditEvent: { createMany: () => new Promise(() => undefined), findMany: async () => [] } };
  const sink = new PrismaAuditSink(stalled, { maxQueue: 10, batchSize: 5 });
  const crypto = new FieldCrypto({
    keyring: new LocalKeyring(randomBytes(32)),
    keyStore: new MemoryKeyStore(),
    cache: { ttlMs: 60_000 },
    audit: sink,
    auditDecrypts: true,
  });
  const row = await crypto.rowEncryptor('default');
  const value = row.encrypt('secret', ctx('r'));
  row.dispose();
  for (let n = 0; n < 100; n++) expect(await crypto.decrypt(value, ctx('r'))).toBe('secret');
  expect(sink.dropped).toBeGreaterThan(80);
  expect(warning).toHaveBeenCalled();
  warning.mockRestore();
});
