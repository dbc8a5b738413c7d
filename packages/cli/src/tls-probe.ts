/**
 * TLS facts about the database connection for `doctor`. What the server says about our own
 * session (PostgreSQL `pg_stat_ssl`, MySQL/MariaDB `SHOW SESSION STATUS LIKE 'Ssl_%'`: in use,
 * protocol, cipher) comes through the application's Prisma client, i.e. the real connection;
 * the certificate and its expiry come from a separate handshake: the database's request to
 * switch to TLS over node:net (PostgreSQL's 8-byte SSLRequest here, MySQL's SSL request packet
 * in `tls-probe-mysql.ts`), then `tls.connect({ socket })`. The probe reads the certificate
 * without trusting it (doctor reports, it does not verify). SQLite is a file: TLS does not apply.
 */
import { Buffer } from 'node:buffer';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { messages } from './messages';
import { mysqlConnectionTls } from './tls-probe-mysql';

/** What the database reports about TLS on the current session. */
export interface ConnectionTls {
  readonly ssl: boolean;
  readonly version: string | null;
  readonly cipher: string | null;
  readonly bits: number | null;
}

/** The server certificate, as read by the probe handshake. */
export interface ServerCertificate {
  readonly subject: string;
  readonly issuer: string;
  readonly validFrom: Date;
  readonly validTo: Date;
  readonly fingerprint256: string;
  readonly selfSigned: boolean;
  readonly protocol: string | null;
  readonly cipher: string | null;
}

/**
 * TLS state of the Prisma client's own connection (PostgreSQL, MySQL/MariaDB); `'file'` for
 * SQLite, where TLS does not apply. Null when unavailable.
 */
export async function connectionTls(client: object): Promise<ConnectionTls | 'file' | null> {
  const raw = client as { $queryRawUnsafe?: <T>(sql: string) => Promise<T>; _activeProvider?: string };
  if (raw._activeProvider === 'sqlite') return 'file';
  if (typeof raw.$queryRawUnsafe !== 'function') return null;
  if (raw._activeProvider === 'mysql') return mysqlConnectionTls(raw as Parameters<typeof mysqlConnectionTls>[0]);
  const rows = await raw.$queryRawUnsafe<
    { ssl: boolean; version: string | null; cipher: string | null; bits: number | null }[]
  >('SELECT ssl, version, cipher, bits FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
  if (rows.length === 0) return { ssl: false, version: null, cipher: null, bits: null };
  const row = rows[0];
  return {
    ssl: Boolean(row.ssl),
    version: row.version,
    cipher: row.cipher,
    bits: row.bits === null ? null : Number(row.bits),
  };
}

/** Host and port of a `postgresql://` URL, or null for a Unix socket / unparsable URL. */
export function tcpTarget(url: string): { host: string; port: number } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) return null;
  const hostParam = parsed.searchParams.get('host');
  const host = hostParam ?? decodeURIComponent(parsed.hostname);
  if (!host || host.startsWith('/')) return null;
  return { host: host.replace(/^\[|\]$/g, ''), port: parsed.port ? Number(parsed.port) : 5432 };
}

/** PostgreSQL's SSLRequest: length 8, then the code 1234 << 16 | 5679. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/**
 * Reads the PostgreSQL server's certificate with an SSLRequest + TLS handshake.
 * @returns null when the server refuses TLS ('N').
 */
export function probeServerCertificate(
  target: { host: string; port: number },
  timeoutMs = 5000,
): Promise<ServerCertificate | null> {
  return probeCertificate(target, timeoutMs, (socket, agreed) => {
    socket.once('connect', () => socket.write(SSL_REQUEST));
    socket.once('data', (answer) => agreed(answer[0] === 0x53 /* 'S' */));
  });
}

/**
 * Connects to `target`, lets `negotiate` ask the server to switch to TLS (it calls `agreed`
 * with the answer, or `failed`), then reads the certificate in a TLS handshake.
 * @returns null when the server does not agree to TLS.
 * @internal shared by the PostgreSQL and MySQL probes
 */
export function probeCertificate(
  target: { host: string; port: number },
  timeoutMs: number,
  negotiate: (socket: Socket, agreed: (tls: boolean) => void, failed: (error: Error) => void) => void,
): Promise<ServerCertificate | null> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(messages.doctor.probeTimeout(target.host, target.port, timeoutMs)));
    }, timeoutMs);
    const finish = (error: Error | null, result?: ServerCertificate | null) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(result ?? null);
    };
    socket.once('error', (error) => finish(error));
    // A server that hangs up says so at once, rather than after the timeout (no-op once settled).
    socket.once('close', () => finish(new Error(messages.doctor.probeClosed(target.host, target.port))));
    negotiate(
      socket,
      (agreedToTls) => {
        if (!agreedToTls) return finish(null, null);
        const servername = /^[\d.:]+$/.test(target.host) ? undefined : target.host;
        const tls = tlsConnect({ socket, servername, rejectUnauthorized: false });
        tls.once('error', (error) => finish(error));
        tls.once('secureConnect', () => {
          const cert = tls.getPeerCertificate(true);
          const cipher = tls.getCipher();
          const protocol = tls.getProtocol();
          tls.destroy();
          if (!cert || !cert.valid_to) return finish(new Error(messages.doctor.noCertificate()));
          const name = (entity: Record<string, unknown> | undefined) =>
            entity
              ? Object.entries(entity)
                  .map(([key, value]) => `${key}=${String(value)}`)
                  .join(', ')
              : '';
          finish(null, {
            subject: name(cert.subject as unknown as Record<string, unknown>),
            issuer: name(cert.issuer as unknown as Record<string, unknown>),
            validFrom: new Date(cert.valid_from),
            validTo: new Date(cert.valid_to),
            fingerprint256: cert.fingerprint256,
            selfSigned:
              cert.fingerprint256 === cert.issuerCertificate?.fingerprint256 ||
              name(cert.subject as never) === name(cert.issuer as never),
            protocol: protocol ?? null,
            cipher: cipher?.name ?? null,
          });
        });
      },
      (error) => finish(error),
    );
  });
}

/** Warning thresholds for certificate expiry, in days. */
export const EXPIRY_WARNINGS = [30, 14, 7] as const;

/** Classifies a certificate's remaining validity: fail when expired, warn at 30/14/7 days or fewer. */
export function classifyExpiry(
  validTo: Date,
  now: Date = new Date(),
): { level: 'ok' | 'warn' | 'fail'; daysLeft: number; threshold?: number } {
  const daysLeft = Math.floor((validTo.getTime() - now.getTime()) / 86_400_000);
  if (validTo.getTime() <= now.getTime()) return { level: 'fail', daysLeft };
  const threshold = [...EXPIRY_WARNINGS].sort((a, b) => a - b).find((days) => daysLeft <= days);
  return threshold === undefined ? { level: 'ok', daysLeft } : { level: 'warn', daysLeft, threshold };
}
