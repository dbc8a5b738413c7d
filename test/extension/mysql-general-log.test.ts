/**
 * What MariaDB/MySQL itself saw: with the server's general query log written to a table, every
 * statement the extended client sent (writes, blind-index lookups, updates, per-scope lookups)
 * is read back from `mysql.general_log`, and none holds a plaintext. The Prisma query log checks
 * in the other suites see what Prisma sent; this sees what the server received.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { describeOn } from '../support/provider';
import { createHarness, type Harness } from './support';

describeOn(['mysql'], 'the general query log is a MySQL/MariaDB server feature')('the MySQL general query log', () => {
  let h: Harness;
  let saved: { general_log: number | string; log_output: string };
  const secrets = ['ada.lovelace@analytical.example', '555-01-9876', 'prefers tea', 'Babbage Street 7'];

  beforeAll(async () => {
    h = await createHarness();
    [saved] = await h.db.query<typeof saved>(
      'SELECT @@GLOBAL.general_log AS general_log, @@GLOBAL.log_output AS log_output',
    );
    await h.db.query("SET GLOBAL log_output = 'TABLE'");
    await h.db.query('SET GLOBAL general_log = 1');
  });
  afterAll(async () => {
    await h.db.query(`SET GLOBAL general_log = ${Number(saved.general_log) ? 1 : 0}`);
    await h.db.query('SET GLOBAL log_output = $1', [saved.log_output]);
    await h.close();
  });

  it('never receives a plaintext, while it does log the statements', async () => {
    const [{ since }] = await h.db.query<{ since: Date }>('SELECT NOW(6) AS since');
    const [email, ssn, notes, city] = secrets;
    const user = await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'log-tenant', name: 'Logged', email, ssn, notes },
    });
    expect((await h.prisma.user.findUnique({ where: { emailIdx: email } }))?.id).toBe(user.id);
    expect(await h.prisma.user.findMany({ where: { email, ssn } })).toHaveLength(1);
    await h.prisma.user.update({ where: { emailIdx: email }, data: { notes: `${notes}, always` } });
    await h.prisma.person.create({ data: { tenantId: 'log-tenant', name: 'Ada', city } });
    expect(await h.prisma.person.findMany({ where: { city } })).toHaveLength(1);
    await h.db.query('SET GLOBAL general_log = 0');

    const logged = await h.db.query<{ argument: Buffer | string }>(
      "SELECT argument FROM mysql.general_log WHERE event_time >= $1 AND command_type IN ('Query', 'Execute')",
      [since],
    );
    const text = logged.map((row) => row.argument.toString()).join('\n');
    // The check sees the extension's traffic: the insert into users and the lookups by index.
    expect(text).toMatch(/INSERT INTO `users`/);
    expect(text).toMatch(/`email_idx` = /);
    for (const secret of [...secrets, 'always']) expect(text.includes(secret)).toBe(false);
  });
});
