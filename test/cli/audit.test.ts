/**
 * Audit from the CLI: key lifecycle events it causes (through core) and the keyring calls of
 * its own health checks reach the configured sink with the CLI's actor, and carry no key
 * material.
 */
import { BatchingAuditSink, type AuditEvent } from '@hushfield/core';
import { createCliWorld } from './support';
import type { CliWorld } from './support';

let world: CliWorld;

beforeAll(async () => {
  world = await createCliWorld();
});

afterAll(async () => {
  await world?.close();
});

test('key lifecycle and health-check keyring calls are audited with the actor, without key material', async () => {
  const events: AuditEvent[] = [];
  const config = {
    audit: { emit: (event: AuditEvent) => void events.push(event) },
    actor: () => ({ tool: 'hushfield-cli', user: 'ops-alice' }),
  };
  expect((await world.runCli(['keys', 'create', '--scope', 'tenant-9'], { config })).code).toBe(0);
  expect((await world.runCli(['keys', 'rotate', '--scope', 'tenant-9'], { config })).code).toBe(0);
  expect((await world.runCli(['doctor'], { config })).code).toBe(0);
  const wrapped = (await world.db.query<{ wrapped_key: string }>('SELECT wrapped_key FROM hushfield_keys')).map(
    (row) => row.wrapped_key,
  );
  expect((await world.runCli(['keys', 'shred', '--scope', 'tenant-9', '--yes'], { config })).code).toBe(0);

  const operations = events.map((event) => `${event.operation}:${event.outcome}`);
  expect(operations).toEqual(
    expect.arrayContaining([
      'key.create:success',
      'key.rotate:success',
      'key.destroy:success',
      'keyring.wrap:success',
      'keyring.unwrap:success',
    ]),
  );
  for (const event of events) expect(event.actor).toEqual({ tool: 'hushfield-cli', user: 'ops-alice' });
  const health = events.filter((event) => event.detail?.purpose === 'health-check');
  expect(health.map((event) => event.operation)).toEqual(['keyring.wrap', 'keyring.unwrap']);
  expect(health[0].keyringId).toBe(world.keyring.id);
  expect(events.find((event) => event.operation === 'key.destroy')).toMatchObject({ scope: 'tenant-9' });
  const serialized = JSON.stringify(events);
  for (const key of wrapped) expect(serialized).not.toContain(key);
});

test('with an audit sink, a command whose actor() throws or yields no actor stops before any key event', async () => {
  const events: AuditEvent[] = [];
  const audit = { emit: (event: AuditEvent) => void events.push(event) };
  expect((await world.runCli(['keys', 'create', '--scope', 'tenant-actor'], { config: { audit } })).code).toBe(0);
  const before = events.length;
  const throwing = {
    audit,
    actor: () => {
      throw new TypeError('no session for ops-secret-user');
    },
  };
  for (const args of [['keys', 'shred', '--scope', 'tenant-actor', '--yes'], ['doctor'], ['status']]) {
    const result = await world.runCli(args, { config: throwing });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("'actor' threw TypeError");
    expect(result.stderr).not.toContain('ops-secret-user');
  }
  const none = await world.runCli(['keys', 'shred', '--scope', 'tenant-actor', '--yes'], {
    config: { audit, actor: () => undefined },
  });
  expect(none.code).toBe(2);
  expect(none.stderr).toContain("'actor' returned no actor");
  // Nothing ran: no event, and the scope's key is still live.
  expect(events.length).toBe(before);
  const states = await world.db.query<{ state: string }>(
    "SELECT state FROM hushfield_keys WHERE scope = 'tenant-actor'",
  );
  expect(states.map((row) => row.state)).toEqual(['active']);
});

describe('a queueing audit sink in the config (BatchingAuditSink, PrismaAuditSink)', () => {
  it('has written every event of the command when the command returns, before the client is closed', async () => {
    const written: AuditEvent[] = [];
    // The defaults: a partial batch waits up to a second on an unref'd timer, which a CLI process
    // exiting at once never reaches.
    const audit = new BatchingAuditSink(async (events) => void written.push(...events), { name: 'cli-test' });
    expect((await world.runCli(['keys', 'create', '--scope', 'tenant-queued'], { config: { audit } })).code).toBe(0);
    const shred = await world.runCli(['keys', 'shred', '--scope', 'tenant-queued', '--yes'], { config: { audit } });
    expect(shred.code).toBe(0);
    expect(audit.pending).toBe(0);
    expect(written.map((event) => event.operation)).toEqual(expect.arrayContaining(['key.create', 'key.destroy']));
  });

  it('fails the command (exit 1) when the sink cannot write its events, naming how many, after the result', async () => {
    const audit = new BatchingAuditSink(() => new Promise<void>(() => undefined), {
      name: 'hung-sink',
      closeTimeoutMs: 50,
    });
    expect((await world.runCli(['keys', 'create', '--scope', 'tenant-hung'], { config: { audit } })).code).toBe(1);
    const listed = await world.runCli(['keys', 'list', '--scope', 'tenant-hung', '--json'], { config: { audit } });
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain('HUSHFIELD_AUDIT_UNWRITTEN');
    expect(listed.stderr).toContain('hung-sink');
    // With --json, stdout still holds the command's one document.
    expect(() => JSON.parse(listed.stdout) as unknown).not.toThrow();
    // The command itself was done: the key exists.
    const keys = await world.db.query<{ state: string }>(
      "SELECT state FROM hushfield_keys WHERE scope = 'tenant-hung'",
    );
    expect(keys.map((row) => row.state)).toEqual(['active']);
  });
});
