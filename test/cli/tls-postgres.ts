/**
 * A throwaway PostgreSQL 15 with TLS on, for `doctor`: `initdb` in a temp directory (as the
 * `postgres` OS user), a self-signed certificate from `openssl req -x509` valid for a chosen
 * number of days, `ssl = on`, on a free loopback port. `stop()` shuts it down and removes it.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

/** A running TLS PostgreSQL. */
export interface TlsPostgres {
  /** `postgresql://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  readonly url: string;
  readonly port: number;
  stop(): void;
}

/** Why a TLS PostgreSQL cannot be started here, or null when it can. */
export function tlsPostgresUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to run initdb as the postgres user';
  if (!existsSync(join(BIN, 'initdb'))) return `no PostgreSQL binaries in ${BIN}`;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    execFileSync('id', ['postgres'], { stdio: 'ignore' });
  } catch {
    return 'needs openssl and a postgres OS user';
  }
  return null;
}

function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const { port: bound } = server.address() as { port: number };
        server.close(() => resolve(bound));
      });
    });
  return tryPort(preferred).catch(() => tryPort(0));
}

/** Starts PostgreSQL with a self-signed certificate valid for `days` days. */
export async function startTlsPostgres(days: number, preferredPort = 55432): Promise<TlsPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'hushfield-tls-pg-'));
  const data = join(dir, 'data');
  const asPostgres = (command: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'pipe' });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      String(days),
      '-subj',
      '/CN=hushfield-test-db',
      '-keyout',
      join(dir, 'server.key'),
      '-out',
      join(dir, 'server.crt'),
    ],
    { stdio: 'pipe' },
  );
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'server.key'), 0o600);
  execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  asPostgres(join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort(preferredPort);
  appendFileSync(
    join(data, 'postgresql.conf'),
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${dir}'`,
      'ssl = on',
      `ssl_cert_file = '${join(dir, 'server.crt')}'`,
      `ssl_key_file = '${join(dir, 'server.key')}'`,
      'fsync = off',
      '',
    ].join('\n'),
  );
  asPostgres(join(BIN, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop() {
      try {
        asPostgres(join(BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
