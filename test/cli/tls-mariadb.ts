/**
 * A throwaway MariaDB with TLS on, for `doctor` on MySQL/MariaDB: `mariadb-install-db` in a temp
 * directory (the server runs as the `mysql` OS user), a self-signed certificate from `openssl req -x509` valid
 * for a chosen number of days, `mariadbd --ssl-cert/--ssl-key` on a free loopback port.
 * `stop()` waits for the clients' connections to close, then shuts it down and removes it.
 *
 * Why the wait: the `mariadb` driver's pool keeps opening connections in the background, and
 * `pool.end()` does not wait for one still in its handshake. When the server stops while such a
 * connection is between authentication and its set-up queries, the driver rejects a promise
 * nobody holds ("socket has unexpectedly been closed", or "disconnected before secure TLS
 * connection was established"), an unhandled rejection Jest pins on the running test.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

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
      await drained(port);
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits (up to 15 s, without blocking the event loop the pools' handshakes run on) until the server
 * holds no connection but the one asking, authenticated or not.
 */
async function drained(port: number): Promise<void> {
  const sql = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND <> 'Daemon'";
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const { stdout } = await execFileAsync('mariadb', ['-h127.0.0.1', `-P${port}`, '-uroot', '-N', '-e', sql]);
    if (stdout.trim() === '0') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
