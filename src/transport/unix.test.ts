/**
 * The Unix-socket transport on real sockets in a private temporary directory.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameDecoder, MAX_HELLO_PAYLOAD_BYTES, MessageType, ProtocolError, encodeFrame, type Message } from '../protocol/index.js';
import { ConnectError, DaemonRunningError, InsecurePathError } from './errors.js';
import type { Connection, TransportServer } from './transport.js';
import { UnixTransport, connectUnix, listenUnix } from './unix.js';

let dir: string;
let sock: string;
const cleanups: (() => unknown)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnish-unix-'));
  sock = join(dir, 'omnish.sock');
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves with `p`, or rejects after `ms` naming what did not happen. */
function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The next message on `conn`. */
function nextMessage(conn: Connection): Promise<Message> {
  return within(
    new Promise((resolve) => {
      const d = conn.onMessage((m) => {
        d.dispose();
        resolve(m);
      });
    }),
    'a message',
  );
}

/** Resolves once `cond()` holds (checked after each turn of the event loop). */
function until(cond: () => boolean, what: string): Promise<void> {
  return within(
    (async () => {
      while (!cond()) await new Promise((r) => setImmediate(r));
    })(),
    what,
  );
}

function closed(conn: Connection): Promise<Error | undefined> {
  return within(new Promise((resolve) => conn.onClose(resolve)), 'the connection to close');
}

/** A daemon stand-in: answers Hello with Welcome and echoes every Request's method as result. */
async function echoDaemon(path = sock): Promise<{ server: TransportServer; received: Message[]; closes: (Error | undefined)[] }> {
  const received: Message[] = [];
  const closes: (Error | undefined)[] = [];
  const server = await new UnixTransport(path).listen((conn) => {
    conn.onClose((err) => closes.push(err));
    conn.onMessage((m) => {
      received.push(m);
      if (m.type === 'Hello') conn.send({ type: 'Welcome', protocolVersion: m.protocolVersion, daemonVersion: 't', daemonPid: process.pid });
      if (m.type === 'Request') conn.send({ type: 'Response', id: m.id, ok: true, result: { method: m.method } });
    });
  });
  cleanups.push(() => server.close());
  return { server, received, closes };
}

async function client(path = sock): Promise<Connection> {
  const conn = await new UnixTransport(path, { connectTimeoutMs: 2000 }).connect();
  cleanups.push(() => conn.destroy());
  return conn;
}

const hello: Message = { type: 'Hello', protocolVersion: 1, token: 'ab'.repeat(32), role: 'control', clientVersion: 't', pid: 1 };

/** Leaves a stale socket file at `path`: a process that listened there and was killed with SIGKILL. */
async function staleSocket(path: string): Promise<void> {
  const code = `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await within(new Promise((resolve) => child.stdout.once('data', resolve)), 'the child to listen');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await within(exited, 'the child to die');
  expect(statSync(path).isSocket()).toBe(true);
}

describe('UnixTransport', () => {
  it('carries messages both ways', async () => {
    const { received } = await echoDaemon();
    const conn = await client();
    const welcome = nextMessage(conn);
    conn.send(hello);
    expect(await welcome).toMatchObject({ type: 'Welcome', protocolVersion: 1 });
    const data = Buffer.from([0, 1, 2, 255, 0x1b, 0x5b]);
    conn.send({ type: 'IoData', dir: 0, tUs: 5, data });
    const response = nextMessage(conn);
    conn.send({ type: 'Request', id: 7, method: 'status', params: {} });
    expect(await response).toEqual({ type: 'Response', id: 7, ok: true, result: { method: 'status' } });
    expect(received.map((m) => m.type)).toEqual(['Hello', 'IoData', 'Request']);
    expect(received[1]).toEqual({ type: 'IoData', dir: 0, tUs: 5, data });
  });

  it('creates the directory 0700 and the socket 0600', async () => {
    const path = join(dir, 'run', 'omnish.sock');
    await echoDaemon(path);
    expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a directory that others can write to', async () => {
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const err = await listenUnix(join(open, 'omnish.sock'), () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsecurePathError);
    expect((err as Error).message).toMatch(/is writable by group and others \(mode 0777\).*chmod 700/);
    expect(existsSync(join(open, 'omnish.sock'))).toBe(false);
  });

  it('refuses a path that is not a socket', async () => {
    writeFileSync(sock, 'not a socket');
    await expect(listenUnix(sock, () => undefined)).rejects.toBeInstanceOf(InsecurePathError);
  });

  it('replaces a stale socket left by a dead daemon', async () => {
    await staleSocket(sock);
    const err = await connectUnix(sock).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe('ECONNREFUSED');
    await echoDaemon();
    const conn = await client();
    const welcome = nextMessage(conn);
    conn.send(hello);
    expect((await welcome).type).toBe('Welcome');
  });

  it('does not steal the socket of a live daemon', async () => {
    await echoDaemon();
    const err = await listenUnix(sock, () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonRunningError);
    expect((err as Error).message).toContain('already running');
    const conn = await client(); // the first daemon still answers
    const welcome = nextMessage(conn);
    conn.send(hello);
    expect((await welcome).type).toBe('Welcome');
  });

  it('rejects a connection to a missing socket with code ENOENT', async () => {
    const err = await connectUnix(join(dir, 'nothing.sock')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe('ENOENT');
    expect((err as Error).message).toContain('nothing.sock');
  });

  it('closes a peer that sends garbage, with a Refused, and leaves other connections alone', async () => {
    const { closes } = await echoDaemon();
    const good = await client();
    const raw: Socket = createConnection(sock);
    cleanups.push(() => raw.destroy());
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    const rawClosed = within(new Promise((resolve) => raw.once('close', resolve)), 'the garbage peer to be closed');
    raw.write('GET / HTTP/1.1\r\n\r\n');
    await rawClosed;
    const refused = new FrameDecoder().push(Buffer.concat(chunks));
    expect(refused).toEqual([{ type: 'Refused', message: expect.stringContaining('bad frame magic') as string }]);
    await until(() => closes.length > 0, 'the daemon side to close');
    expect(closes[0]).toBeInstanceOf(ProtocolError);

    const response = nextMessage(good);
    good.send({ type: 'Request', id: 1, method: 'still-there', params: {} });
    expect(await response).toMatchObject({ type: 'Response', id: 1, ok: true });
  });

  it('destroys a refused peer that does not close its side', async () => {
    const closes: (Error | undefined)[] = [];
    const server = await listenUnix(sock, (conn) => conn.onClose((err) => closes.push(err)), { closeGraceMs: 50 });
    cleanups.push(() => server.close());
    const raw = createConnection({ path: sock, allowHalfOpen: true }); // reads the Refused, never ends
    cleanups.push(() => raw.destroy());
    raw.on('data', () => undefined);
    raw.write('garbage');
    await until(() => closes.length > 0, 'the daemon to give up on the peer');
    expect(closes[0]).toBeInstanceOf(ProtocolError);
    expect(server.connections.size).toBe(0);
  });

  it('signals backpressure when the peer does not read, and drain when it does', async () => {
    const peers: Socket[] = [];
    const server = createServer({ pauseOnConnect: true }, (s) => peers.push(s));
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const conn = await connectUnix(sock, { highWaterMark: 16 * 1024 });
    cleanups.push(() => conn.destroy());

    const frame = { type: 'IoData', dir: 0, tUs: 0, data: Buffer.alloc(32 * 1024) } as const;
    let sent = 0;
    while (conn.send(frame)) {
      if (++sent > 10_000) throw new Error('send never reported backpressure');
    }
    expect(conn.bufferedBytes).toBeGreaterThan(16 * 1024);
    const drained = within(new Promise<void>((resolve) => conn.onDrain(resolve)), 'drain');
    await until(() => peers.length > 0, 'the peer to accept');
    peers[0]!.resume(); // the peer starts reading (and discarding)
    await drained;
    expect(conn.bufferedBytes).toBeLessThan(16 * 1024);
  });

  it('close() of the server closes its connections and removes the socket', async () => {
    const { server } = await echoDaemon();
    const conn = await client();
    const welcome = nextMessage(conn);
    conn.send(hello);
    await welcome;
    const clientClosed = closed(conn);
    await within(server.close(), 'the server to close');
    expect(await clientClosed).toBeUndefined();
    expect(existsSync(sock)).toBe(false);
    expect(conn.send(hello)).toBe(false);
  });

  it('refuses a first frame over the Hello cap from its header, before reading the payload', async () => {
    const { closes, received } = await echoDaemon();
    const raw: Socket = createConnection(sock);
    cleanups.push(() => raw.destroy());
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    const rawClosed = within(new Promise((resolve) => raw.once('close', resolve)), 'the peer to be closed');
    const header = Buffer.from([0x4f, 0x4d, 0, 0, 0, 0, MessageType.Hello]);
    header.writeUInt32BE(MAX_HELLO_PAYLOAD_BYTES + 1, 2);
    raw.end(header); // the header alone: the payload never comes, the refusal must not wait for it
    await rawClosed;
    expect(new FrameDecoder().push(Buffer.concat(chunks))).toEqual([
      { type: 'Refused', message: `first frame (the Hello) length ${MAX_HELLO_PAYLOAD_BYTES + 1} is over the ${MAX_HELLO_PAYLOAD_BYTES}-byte cap` },
    ]);
    await until(() => closes.length > 0, 'the daemon side to close');
    expect((closes[0] as ProtocolError).code).toBe('TOO_LARGE');
    expect(received).toEqual([]);
  });

  it("drops what a peer sends after the daemon's close(): a refused Hello cannot be followed by data", async () => {
    const received: Message[] = [];
    const server = await listenUnix(sock, (conn) =>
      conn.onMessage((m) => {
        received.push(m);
        if (m.type === 'Hello') {
          conn.send({ type: 'Refused', message: 'bad auth token' });
          conn.close();
        }
      }),
    );
    cleanups.push(() => server.close());
    const conn = await client();
    const refused = nextMessage(conn);
    // Pipelined in one write: Hello, then a Request the daemon must never see.
    conn.send(hello);
    conn.send({ type: 'Request', id: 1, method: 'after-refusal', params: {} });
    expect(await refused).toEqual({ type: 'Refused', message: 'bad auth token' });
    await closed(conn);
    expect(received.map((m) => m.type)).toEqual(['Hello']);
  });

  it('reports a frame cut by the peer closing as a ProtocolError', async () => {
    const { closes } = await echoDaemon();
    const raw = createConnection(sock);
    cleanups.push(() => raw.destroy());
    const full = encodeFrame(hello);
    await new Promise<void>((resolve) => raw.end(full.subarray(0, full.length - 3), resolve));
    await until(() => closes.length > 0, 'the daemon side to close');
    expect(closes[0]).toBeInstanceOf(ProtocolError);
    expect((closes[0] as ProtocolError).code).toBe('TRUNCATED');
  });
});
