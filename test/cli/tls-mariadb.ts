/**
 * A throwaway MariaDB with TLS on, for `doctor` on MySQL/MariaDB: `mariadb-install-db` in a temp
 * directory (the server runs as the `mysql` OS user), a self-signed certificate from `openssl req -x509` valid
 * for a chosen number of days, `mariadbd --ssl-cert/--ssl-key` on a free loopback port.
 * `stop()` shuts it down and removes it.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running TLS MariaDB (root, no password). */
export interface TlsMariaDb {
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Why a TLS MariaDB cannot be started here, or null when it can. */
export function tlsMariaDbUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to run mariadbd as the mysql user';
  if (!existsSync('/usr/sbin/mariadbd') || !existsSync('/usr/bin/mariadb-install-db'))
    return 'no MariaDB server binaries';
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    execFileSync('id', ['mysql'], { stdio: 'ignore' });
  } catch {
    return 'needs openssl and a mysql OS user';
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts MariaDB with a self-signed certificate valid for `days` days. */
export async function startTlsMariaDb(days: number): Promise<TlsMariaDb> {
  const dir = mkdtempSync(join(tmpdir(), 'hushfield-tls-maria-'));
  const file = (name: string) => join(dir, name);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', String(days)].concat([
      '-subj',
      '/CN=hushfield-test-mariadb',
      '-keyout',
      file('server.key'),
      '-out',
      file('server.crt'),
    ]),
    { stdio: 'pipe' },
  );
  execFileSync('chown', ['-R', 'mysql', dir]);
  execFileSync(
    'mariadb-install-db',
    ['--user=mysql', `--datadir=${file('data')}`, '--auth-root-authentication-method=normal', '--skip-test-db'],
    { stdio: 'pipe' },
  );
  const port = await freePort();
  // mariadbd started as root drops to the mysql user itself (--user): the child is the server.
  const server: ChildProcess = spawn(
    '/usr/sbin/mariadbd',
    ['--no-defaults', '--user=mysql', `--datadir=${file('data')}`].concat([
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${file('mysqld.sock')}`,
      `--pid-file=${file('mysqld.pid')}`,
      `--ssl-cert=${file('server.crt')}`,
      `--ssl-key=${file('server.key')}`,
      '--skip-log-bin',
      '--innodb-buffer-pool-size=16M',
    ]),
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      execFileSync('mariadb-admin', ['-h127.0.0.1', `-P${port}`, '-uroot', 'ping'], { stdio: 'pipe' });
      break;
    } catch (error) {
      if (Date.now() > deadline || server.exitCode !== null) {
        server.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    host: '127.0.0.1',
    port,
    async stop() {
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
