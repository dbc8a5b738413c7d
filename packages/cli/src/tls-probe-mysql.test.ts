/**
 * The MySQL certificate probe against servers that misbehave: it answers promptly with a
 * typed reason, reads no more than a greeting can be, and shows no raw server text.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { mysqlTarget, probeMysqlCertificate } from './tls-probe-mysql';

/** A loopback server that treats each connection with `onConnection`. */
async function fakeServer(onConnection: (socket: Socket) => void): Promise<{ port: number; server: Server }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

/** One MySQL packet: 3-byte length, sequence id, payload. */
function packet(payload: Buffer, sequence = 0): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequence;
  return Buffer.concat([header, payload]);
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function probeOf(onConnection: (socket: Socket) => void, timeoutMs = 5000) {
  const { port, server } = await fakeServer(onConnection);
  servers.push(server);
  const started = Date.now();
  const outcome = await probeMysqlCertificate({ host: '127.0.0.1', port }, timeoutMs).then(
    (value) => ({ value, error: undefined }),
    (error: Error) => ({ value: undefined, error }),
  );
  return { ...outcome, port, elapsedMs: Date.now() - started };
}

describe('probeMysqlCertificate', () => {
  test('a server that hangs up is reported at once, not after the timeout', async () => {
    const { error, port, elapsedMs } = await probeOf((socket) => socket.end());
    expect(error?.message).toBe(`127.0.0.1:${port} closed the connection before its certificate was read`);
    expect(elapsedMs).toBeLessThan(2000);
  });

  test('a greeting that announces more than a greeting can hold is refused before it is read', async () => {
    let written = 0;
    const { error } = await probeOf((socket) => {
      // Announces 16 MiB, then streams; the probe must not wait for (or buffer) it.
      socket.write(packet(Buffer.alloc(0)).subarray(0, 3).fill(0xff));
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const timer = setInterval(() => {
        if (socket.destroyed) return clearInterval(timer);
        written += chunk.length;
        socket.write(chunk);
      }, 5);
      socket.on('close', () => clearInterval(timer));
      socket.on('error', () => clearInterval(timer));
    });
    expect(error?.message).toMatch(/^the server's greeting announces 16777215 bytes/);
    expect(written).toBeLessThan(16 * 1024 * 1024);
  });

  test("an error greeting is shown without the server's control characters, and cut short", async () => {
    const text = `#HY000Host is blocked \u001b[2J\u001b]0;pwned\u0007${'x'.repeat(500)}`;
    const payload = Buffer.concat([Buffer.from([0xff, 0x69, 0x04]), Buffer.from(text, 'utf8')]);
    const { error } = await probeOf((socket) => socket.end(packet(payload)));
    expect(error?.message.startsWith('the server refused the connection: Host is blocked [2J]0;pwned')).toBe(true);
    const controls = Array.from(error?.message ?? '').filter(
      (char) => char < ' ' || (char >= '\u007f' && char <= '\u009f'),
    );
    expect(controls).toEqual([]);
    expect(error?.message.length).toBeLessThan(260);
  });

  test('a server that says nothing is reported when the timeout ends', async () => {
    const { error, elapsedMs } = await probeOf(() => undefined, 300);
    expect(error?.message).toMatch(/timed out after 300 ms/);
    expect(elapsedMs).toBeGreaterThanOrEqual(250);
  });

  test('a greeting without CLIENT_SSL means the server does not offer TLS', async () => {
    // Protocol 10, version "5.5.5-fake", thread id, 8 bytes of auth data, filler, capabilities 0x0200.
    const greeting = Buffer.concat([
      Buffer.from([10]),
      Buffer.from('5.5.5-fake\u0000'),
      Buffer.alloc(4, 1),
      Buffer.alloc(8, 2),
      Buffer.from([0]),
      Buffer.from([0x00, 0x02]),
    ]);
    const { value, error } = await probeOf((socket) => socket.write(packet(greeting)));
    expect(error).toBeUndefined();
    expect(value).toBeNull();
  });
});

describe('mysqlTarget', () => {
  test('reads host and port of mysql:// and mariadb:// URLs, defaulting to 3306', () => {
    expect(mysqlTarget('mysql://u:p@db.example.com:3307/app')).toEqual({ host: 'db.example.com', port: 3307 });
    expect(mysqlTarget('mariadb://db/app')).toEqual({ host: 'db', port: 3306 });
  });

  test('has no target for sockets, other schemes or garbage', () => {
    expect(mysqlTarget('mysql://u@localhost/app?socket=/run/mysqld/mysqld.sock')).toBeNull();
    expect(mysqlTarget('postgresql://db/app')).toBeNull();
    expect(mysqlTarget('not a url')).toBeNull();
  });
});
