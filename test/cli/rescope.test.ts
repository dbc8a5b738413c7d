/**
 * `reencrypt` never launders a value sealed under another scope's key than its row's (copied
 * from another tenant's row, or a row whose scope column was changed in SQL): it reports the
 * row as failed and leaves it as it is, in a dry run, a single run and a scaled-out run alike;
 * `status --verify` and `doctor` report such values with a hint. `--rescope`, the way to move a
 * model's values after its `@encryption(scope: ...)` was added or changed, moves them to their
 * row's scope key. `decrypt` (which would write the plaintext into the row) is held to the same.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import type { HushfieldSchema } from '@hushfield/prisma';
import { DecryptionError } from '@hushfield/core';
import { appClient, childProcessesReachDatabase, createCliWorld, schema } from './support';
import type { CliResult, CliWorld } from './support';
import { createSandbox } from './spawn-cli';

interface TicketRow {
  tenant_id: string;
  subject: string;
  detail: string | null;
}

interface Failure {
  key: string;
  field?: string;
  code: string;
  message: string;
}

let world: CliWorld;
let app: ReturnType<typeof appClient>;
// Scaled-out runs need a database server (as in scale-control.test.ts): PGlite serves one connection.
const scaled = childProcessesReachDatabase('rescope.test (scaled-out runs)');

beforeAll(async () => {
  world = await createCliWorld();
  app = appClient(world);
}, 120_000);

afterAll(async () => {
  await world?.close();
});

async function ticketRow(id: number): Promise<TicketRow> {
  const [row] = await world.db.query<TicketRow>('SELECT tenant_id, subject, detail FROM tickets WHERE id = $1', [id]);
  return row;
}

/** The key id every version of `scope`'s key shares (`hushfield_keys.key_id`). */
async function scopeKeyId(scope: string): Promise<string> {
  const rows = await world.db.query<{ key_id: string }>(
    "SELECT DISTINCT key_id FROM hushfield_keys WHERE kind = 'scope' AND scope = $1",
    [scope],
  );
  expect(rows).toHaveLength(1);
  return rows[0].key_id;
}

/** How many key versions `scope` has in `hushfield_keys`. */
async function scopeKeyCount(scope: string): Promise<number> {
  const rows = await world.db.query<{ key_id: string }>(
    "SELECT key_id FROM hushfield_keys WHERE kind = 'scope' AND scope = $1",
    [scope],
  );
  return rows.length;
}

/** The key id a stored envelope (`hfe$1$<keyId>$...`) names. */
const keyIdOf = (envelope: string) => envelope.split('$')[2];

/**
 * Two tenants' tickets; then, in SQL, the first one's subject is copied into the second's (the
 * copy is the second's now). Returns the ids.
 */
async function copiedSubject(tag: string): Promise<{ from: number; to: number }> {
  const from = await app.ticket.create({ data: { tenantId: `${tag}-a`, subject: `subject of ${tag}-a` } });
  const to = await app.ticket.create({
    data: { tenantId: `${tag}-b`, subject: `subject of ${tag}-b`, detail: `detail of ${tag}-b` },
  });
  const source = await ticketRow(from.id);
  await world.db.query('UPDATE tickets SET subject = $1 WHERE id = $2', [source.subject, to.id]);
  return { from: from.id, to: to.id };
}

const failuresOf = (result: CliResult): Failure[] => result.json.models[0].failures;
const failureFor = (result: CliResult, key: string) => failuresOf(result).find((failure) => failure.key === key);

function expectRefused(failure: Failure | undefined, field: string, scope: string): void {
  expect(failure).toMatchObject({ field, code: 'HUSHFIELD_DECRYPTION_FAILED' });
  expect(failure?.message).toContain(`sealed under another scope's key than its row's scope "${scope}"`);
  expect(failure?.message).toContain('--rescope');
}

test("reencrypt reports a value copied from another tenant's ticket as a failed row and leaves the row as it is", async () => {
  const { from, to } = await copiedSubject('copy');
  const before = await ticketRow(to);

  const dry = await world.runCli(['reencrypt', '--model', 'Ticket', '--dry-run', '--json']);
  expect(dry.code).toBe(3);
  expect(dry.json.models[0]).toMatchObject({ failed: 1, written: 0 });
  expectRefused(failureFor(dry, `[${to}]`), 'subject', 'copy-b');

  const run = await world.runCli(['reencrypt', '--model', 'Ticket', '--json']);
  expect(run.code).toBe(3);
  expect(run.json.models[0]).toMatchObject({ failed: 1, moved: 0, written: 0 });
  expectRefused(failureFor(run, `[${to}]`), 'subject', 'copy-b');
  expect(JSON.stringify(run.json)).not.toContain('subject of copy');
  expect(await ticketRow(to)).toEqual(before);
  // Still the other tenant's key: the application refuses it, and the row it came from reads.
  expect(keyIdOf(before.subject)).toBe(await scopeKeyId('copy-a'));
  await expect(app.ticket.findUnique({ where: { id: to } })).rejects.toThrow(DecryptionError);
  expect((await app.ticket.findUniqueOrThrow({ where: { id: from } })).subject).toBe('subject of copy-a');

  const human = await world.runCli(['reencrypt', '--model', 'Ticket']);
  expect(human.stdout).toContain(`Ticket row [${to}] .subject: HUSHFIELD_DECRYPTION_FAILED sealed under another`);
  expect(human.stdout).not.toContain('subject of copy');
});

test('reencrypt reports the rows whose scope column was changed in SQL, bound ids or not, dry run too', async () => {
  const ticket = await app.ticket.create({ data: { tenantId: 'moved-a', subject: 'subject of moved-a' } });
  await world.db.query("UPDATE tickets SET tenant_id = 'moved-b' WHERE id = $1", [ticket.id]);
  const user = await app.user.create({
    data: { tenantId: 'user-a', name: 'U', email: 'moved-user@example.com', emailIdx: computedBlindIndex },
  });
  await world.db.query('UPDATE users SET "tenantId" = \'user-b\' WHERE id = $1', [user.id]);
  const before = await ticketRow(ticket.id);
  const [userBefore] = await world.db.query('SELECT * FROM users WHERE id = $1', [user.id]);

  for (const dryRun of [['--dry-run'], []]) {
    const tickets = await world.runCli(['reencrypt', '--model', 'Ticket', ...dryRun, '--json']);
    expect(tickets.code).toBe(3);
    // 'moved-b' has no key, and refusing its only row leaves it none, in a real run too.
    expectRefused(failureFor(tickets, `[${ticket.id}]`), 'subject', 'moved-b');
    expect(await scopeKeyCount('moved-b')).toBe(0);
    const users = await world.runCli(['reencrypt', '--model', 'User', ...dryRun, '--json']);
    expect(users.code).toBe(3);
    expect(users.json.models[0]).toMatchObject({ failed: 1, written: 0 });
    expectRefused(failureFor(users, JSON.stringify([user.id])), 'email', 'user-b');
    expect(await scopeKeyCount('user-b')).toBe(0);
    expect(JSON.stringify(users.json)).not.toContain('moved-user@example.com');
  }
  expect(await ticketRow(ticket.id)).toEqual(before);
  expect((await world.db.query('SELECT * FROM users WHERE id = $1', [user.id]))[0]).toEqual(userBefore);
});

test('status --verify and doctor report values under another scope key, with the way to move them', async () => {
  // From the tests above: one copied Ticket subject, one Ticket and one User moved in SQL.
  const status = await world.runCli(['status', '--model', 'Ticket', '--verify', '--json']);
  expect(status.code).toBe(3);
  const subject = status.json.models[0].fields.find((field: { field: string }) => field.field === 'subject');
  expect(subject).toMatchObject({ unreadable: { HUSHFIELD_DECRYPTION_FAILED: 2 }, otherScope: 2 });
  const human = await world.runCli(['status', '--model', 'Ticket', '--verify']);
  expect(human.code).toBe(3);
  expect(human.stdout).toContain("2 unreadable, 2 under another scope's key than their row's");
  expect(human.stdout).toContain(
    "hint: Ticket: 2 value(s) sealed under another scope's key than their row's: copied from another scope's row",
  );
  expect(human.stdout).toContain('`hushfield reencrypt --model Ticket --rescope` moves them');
  expect(human.stdout).not.toContain('subject of');

  const doctor = await world.runCli(['doctor', '--json']);
  expect(doctor.code).toBe(1);
  const values = doctor.json.checks.filter((check: { check: string }) => check.check === 'values');
  expect(values).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        level: 'fail',
        detail: expect.objectContaining({ model: 'Ticket', otherScope: 2 }),
      }),
      expect.objectContaining({
        level: 'fail',
        detail: expect.objectContaining({ model: 'User', otherScope: 1 }),
      }),
    ]),
  );
  const ticketCheck = values.find((check: { detail: { model: string } }) => check.detail.model === 'Ticket');
  expect(ticketCheck.message).toContain('`hushfield reencrypt --model Ticket --rescope` moves them');
  expect(JSON.stringify(doctor.json)).not.toContain('moved-user@example.com');
});

test("--rescope moves values under another scope's key to their row's scope key, and the extension reads them", async () => {
  const tickets = await world.runCli(['reencrypt', '--model', 'Ticket', '--rescope', '--json']);
  expect(tickets.code).toBe(0);
  expect(tickets.json.models[0]).toMatchObject({ failed: 0, moved: 2, written: 2 });
  const users = await world.runCli(['reencrypt', '--model', 'User', '--rescope', '--json']);
  expect(users.code).toBe(0);
  expect(users.json.models[0]).toMatchObject({ failed: 0, moved: 1, written: 1 });

  for (const row of await world.db.query<TicketRow>('SELECT tenant_id, subject, detail FROM tickets')) {
    expect(keyIdOf(row.subject)).toBe(await scopeKeyId(row.tenant_id));
    if (row.detail !== null) expect(keyIdOf(row.detail)).toBe(await scopeKeyId(row.tenant_id));
  }
  // --rescope moves what it finds: the copy now reads in its new row (why it is not the default).
  const copied = await app.ticket.findFirstOrThrow({ where: { tenantId: 'copy-b' } });
  expect(copied).toMatchObject({ subject: 'subject of copy-a', detail: 'detail of copy-b' });
  expect((await app.ticket.findFirstOrThrow({ where: { tenantId: 'moved-b' } })).subject).toBe('subject of moved-a');
  const user = await app.user.findFirstOrThrow({ where: { tenantId: 'user-b' } });
  expect(user.email).toBe('moved-user@example.com');
  const [stored] = await world.db.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [user.id]);
  expect(keyIdOf(stored.email)).toBe(await scopeKeyId('user-b'));

  // Nothing is left for a run without it, and nothing for status or doctor to report.
  expect((await world.runCli(['reencrypt', '--model', 'Ticket', '--json'])).json.models[0]).toMatchObject({
    failed: 0,
    written: 0,
  });
  expect((await world.runCli(['status', '--model', 'Ticket', '--verify'])).code).toBe(0);
  const doctor = await world.runCli(['doctor', '--json']);
  expect(doctor.json.checks.filter((check: { check: string }) => check.check === 'values')).toEqual([]);
});

(scaled ? test : test.skip)(
  'a scaled-out run (workers on the main thread) reports such values, and moves them with --rescope',
  async () => {
    const { to } = await copiedSubject('here');
    const before = await ticketRow(to);
    const args = ['reencrypt', '--model', 'Ticket', '--workers', '2', '--json'];
    const checked = await world.runCli([...args, '--run', 'rescope-here-1']);
    expect(checked.code).toBe(3);
    expect(checked.json.run.threads).toBe(false);
    expectRefused(failureFor(checked, `[${to}]`), 'subject', 'here-b');
    expect(await ticketRow(to)).toEqual(before);

    const moved = await world.runCli([...args, '--run', 'rescope-here-2', '--rescope']);
    expect(moved.code).toBe(0);
    expect(moved.json.models[0]).toMatchObject({ failed: 0, moved: 1 });
    expect(keyIdOf((await ticketRow(to)).subject)).toBe(await scopeKeyId('here-b'));
  },
  60_000,
);

(scaled ? test : test.skip)(
  'the flag reaches worker threads (--workers in a process of its own)',
  async () => {
    const { to } = await copiedSubject('threads');
    const before = await ticketRow(to);
    const sandbox = createSandbox(world.db.url as string, world.rootKey.toString('base64'));
    try {
      const args = ['reencrypt', '--model', 'Ticket', '--workers', '2', '--json'];
      const checked = await sandbox.spawn([...args, '--run', 'rescope-threads-1']).done;
      expect(checked.code).toBe(3);
      const report = JSON.parse(checked.stdout);
      expect(report.run.threads).toBe(true);
      expectRefused(
        (report.models[0].failures as Failure[]).find((failure) => failure.key === `[${to}]`),
        'subject',
        'threads-b',
      );
      expect(await ticketRow(to)).toEqual(before);

      const moved = await sandbox.spawn([...args, '--run', 'rescope-threads-2', '--rescope']).done;
      expect({ code: moved.code, stderr: moved.code === 0 ? '' : moved.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(moved.stdout).models[0]).toMatchObject({ failed: 0, moved: 1 });
      expect(keyIdOf((await ticketRow(to)).subject)).toBe(await scopeKeyId('threads-b'));
    } finally {
      sandbox.remove();
    }
  },
  120_000,
);

test("decrypt does not write another tenant's plaintext into a row either, unless --rescope", async () => {
  const { to } = await copiedSubject('decrypt');
  const before = await ticketRow(to);
  const ticket = schema.models.Ticket;
  const readonly: HushfieldSchema = {
    ...schema,
    models: {
      ...schema.models,
      Ticket: {
        ...ticket,
        encrypted: { ...ticket.encrypted, subject: { ...ticket.encrypted.subject, mode: 'readonly' } },
      },
    },
  };
  const config = { schema: readonly };
  for (const dryRun of [['--dry-run'], []]) {
    const checked = await world.runCli(['decrypt', '--model', 'Ticket', ...dryRun, '--json'], { config });
    expect(checked.code).toBe(3);
    expect(checked.json.models[0]).toMatchObject({ failed: 1 });
    expectRefused(failureFor(checked, `[${to}]`), 'subject', 'decrypt-b');
  }
  expect(await ticketRow(to)).toEqual(before);

  const opened = await world.runCli(['decrypt', '--model', 'Ticket', '--rescope', '--json'], { config });
  expect(opened.code).toBe(0);
  expect(opened.json.models[0]).toMatchObject({ failed: 0 });
  expect((await ticketRow(to)).subject).toBe('subject of decrypt-a');
});
