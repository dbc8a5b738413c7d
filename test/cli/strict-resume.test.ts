/**
 * Plaintext in a `strict` field makes a run exit 3 (the table is not done). A run killed
 * after it passed such a row, then resumed, must not forget it: the resumed run must not end
 * `done` with exit 0 while the row stays unreadable through the extension.
 */
import { randomUUID } from 'node:crypto';
import { appClient, childProcessesReachDatabase, createCliWorld } from './support';
import type { CliWorld } from './support';
import { createSandbox } from './spawn-cli';
import type { CliSandbox } from './spawn-cli';

const USERS = 6000;
const STRICT_ID = '00000000-0000-4000-8000-000000000000'; // sorts first
const LEGACY_EMAIL = 'legacy.strict@example.org';
let world: CliWorld;
let sandbox: CliSandbox | undefined;
const multiProcess = childProcessesReachDatabase('strict-resume.test');

beforeAll(async () => {
  world = await createCliWorld();
  if (!multiProcess) return;
  const app = appClient(world);
  const users = Array.from({ length: USERS }, (_, i) => ({
    id: randomUUID(),
    tenantId: 't1',
    name: `user ${i}`,
    email: `user${i}@example.com`,
  }));
  for (let at = 0; at < users.length; at += 1000) await app.user.createMany({ data: users.slice(at, at + 1000) });
  await world.db.query(
    `INSERT INTO users (id, "tenantId", name, email, email_idx) VALUES ('${STRICT_ID}', 't1', 'Legacy', '${LEGACY_EMAIL}', 'not-an-index')`,
  );
  sandbox = createSandbox(world.db.url as string, world.rootKey.toString('base64'));
}, 300_000);

afterAll(async () => {
  sandbox?.remove();
  await world?.close();
});

async function checkpoint(): Promise<{ processed: number; state: string } | undefined> {
  const [row] = await world.db.query<{ processed: number; state: string }>(
    `SELECT processed, state FROM hushfield_checkpoints WHERE id = 'reencrypt:User'`,
  );
  return row;
}

(multiProcess ? test : test.skip)(
  'a resumed run still reports the strict plaintext the killed run passed (exit 3, not 0)',
  async () => {
    expect((await world.runCli(['keys', 'rotate', '--scope', 't1'])).code).toBe(0);
    const run = (sandbox as CliSandbox).spawn(['reencrypt', '--model', 'User', '--batch', '100', '--concurrency', '1']);
    const started = Date.now();
    for (;;) {
      const seen = await checkpoint();
      if (seen && seen.state === 'running' && seen.processed >= 500) break;
      if (run.child.exitCode !== null) throw new Error(`ended before the kill:\n${(await run.done).stderr}`);
      if (Date.now() - started > 60_000) throw new Error('no progress');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');

    const resumed = await world.runCli(['reencrypt', '--model', 'User', '--json']);
    // The strict plaintext row is still there and unreadable through the extension:
    const [row] = await world.db.query<{ email: string }>(`SELECT email FROM users WHERE id = '${STRICT_ID}'`);
    expect(row.email).toBe(LEGACY_EMAIL);
    await expect(appClient(world).user.findUnique({ where: { id: STRICT_ID } })).rejects.toThrow();
    // ...so the run is not done.
    expect({ code: resumed.code, strictPlaintext: resumed.json.models[0].strictPlaintext }).toEqual({
      code: 3,
      strictPlaintext: expect.any(Number),
    });
    expect((await checkpoint())?.state).not.toBe('done');
  },
  300_000,
);
