/**
 * TLS facts for MySQL/MariaDB (`doctor`): the session's own TLS state from
 * `SHOW SESSION STATUS LIKE 'Ssl_%'` (`Ssl_version`, `Ssl_cipher`, empty when the session is in
 * clear), and the server certificate through MySQL's own switch to TLS: the server's greeting
 * says whether it can (the `CLIENT_SSL` capability), the client answers with an SSL request
 * packet (its capabilities with `CLIENT_SSL`, before any credentials), and the TLS handshake
 * follows on the same socket.
 */
import { Buffer } from 'node:buffer';
import type { ConnectionTls, ServerCertificate } from './tls-probe';
import { probeCertificate } from './tls-probe';
import { messages } from './messages';

/** The capability bits the probe uses (MySQL client/server protocol). */
const CLIENT_LONG_PASSWORD = 0x0001;
const CLIENT_PROTOCOL_41 = 0x0200;
const CLIENT_SSL = 0x0800;
const CLIENT_SECURE_CONNECTION = 0x8000;
/** utf8mb4_general_ci: the character set announced in the SSL request. */
const UTF8MB4 = 45;
/** A greeting longer than this is not one (MySQL's and MariaDB's are about 100 bytes). */
const MAX_GREETING = 1024;
/** How much of a server's error text is shown, control characters removed. */
const MAX_ERROR_TEXT = 200;

/** TLS state of the client's own MySQL/MariaDB session (a connection of its pool). */
export async function mysqlConnectionTls(client: {
  $queryRawUnsafe<T>(sql: string): Promise<T>;
}): Promise<ConnectionTls> {
  const rows = await client.$queryRawUnsafe<{ Variable_name: string; Value: string | null }[]>(
    "SHOW SESSION STATUS LIKE 'Ssl_%'",
  );
  const status = new Map(rows.map((row) => [row.Variable_name.toLowerCase(), row.Value ?? '']));
  const cipher = status.get('ssl_cipher') ?? '';
  const version = status.get('ssl_version') ?? '';
  return { ssl: cipher !== '', version: version || null, cipher: cipher || null, bits: null };
}

/** Host and port of a `mysql://` or `mariadb://` URL (default port 3306), or null (a socket, another scheme). */
export function mysqlTarget(url: string): { host: string; port: number } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') return null;
  if (parsed.searchParams.has('socket') || parsed.searchParams.has('socketPath')) return null;
  const host = decodeURIComponent(parsed.hostname);
  if (!host) return null;
  return { host: host.replace(/^\[|\]$/g, ''), port: parsed.port ? Number(parsed.port) : 3306 };
}

/**
 * Reads a MySQL/MariaDB server's certificate: greeting, SSL request packet, TLS handshake.
 * @returns null when the server does not offer TLS (no `CLIENT_SSL` in its greeting)
 */
export function probeMysqlCertificate(
  target: { host: string; port: number },
  timeoutMs = 5000,
): Promise<ServerCertificate | null> {
  return probeCertificate(target, timeoutMs, (socket, agreed, failed) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const length = received.readUIntLE(0, 3);
      if (length > MAX_GREETING) {
        socket.off('data', onData);
        return failed(new Error(messages.doctor.greetingTooLong(length)));
      }
      if (received.length < 4 + length) return;
      socket.off('data', onData);
      const greeting = received.subarray(4, 4 + length);
      const capabilities = greetingCapabilities(greeting);
      if (capabilities === null) return failed(new Error(greetingError(greeting)));
      if ((capabilities & CLIENT_SSL) === 0) return agreed(false);
      socket.write(sslRequest(received[3] + 1));
      agreed(true);
    };
    socket.on('data', onData);
  });
}

/** The lower capability flags of a protocol-10 greeting, or null when it is not one (an error packet). */
function greetingCapabilities(greeting: Buffer): number | null {
  if (greeting[0] !== 10) return null;
  const versionEnd = greeting.indexOf(0, 1);
  if (versionEnd < 0) return null;
  // version, NUL, thread id (4), auth data part 1 (8), filler (1), capability flags (2)
  const at = versionEnd + 1 + 4 + 8 + 1;
  return greeting.length >= at + 2 ? greeting.readUInt16LE(at) : null;
}

/**
 * What an error packet (0xff, code, `#` state, message) says, for the probe's error: the
 * server's text is untrusted, so control characters (terminal escapes) are dropped and it is cut short.
 */
function greetingError(packet: Buffer): string {
  if (packet[0] !== 0xff) return 'unexpected greeting from the server';
  const raw = packet.subarray(3).toString('utf8');
  const text = Array.from(raw.startsWith('#') ? raw.slice(6) : raw)
    .filter((char) => !isControl(char))
    .join('');
  return messages.doctor.serverRefused(text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text);
}

/** The SSL request packet: capabilities with CLIENT_SSL, max packet size, character set, 23 zero bytes. */
function sslRequest(sequence: number): Buffer {
  const packet = Buffer.alloc(4 + 32);
  packet.writeUIntLE(32, 0, 3);
  packet[3] = sequence & 0xff;
  packet.writeUInt32LE(CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION, 4);
  packet.writeUInt32LE(16 * 1024 * 1024, 8);
  packet[12] = UTF8MB4;
  return packet;
}

/** C0 and C1 control characters and DEL (what a terminal may read as an escape sequence). */
function isControl(char: string): boolean {
  const code = char.codePointAt(0) as number;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}
