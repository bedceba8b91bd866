/**
 * Transport over a Unix-domain stream socket (node:net). The socket lives in a private directory
 * (0700, ours) and is itself 0600; the auth token in Hello is the second lock (token.ts).
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type NetConnectOpts, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { SocketConnection } from './connection.js';
import { ConnectError, DaemonRunningError, InsecurePathError } from './errors.js';
import { ensurePrivateDir } from './private-dir.js';
import type { Connection, Transport, TransportServer } from './transport.js';

/** Options shared by the client and server side. */
export interface UnixOptions {
  /** How long connect() waits for the daemon (and listen() for a socket already there), in ms. Default 1000. */
  connectTimeoutMs?: number;
  /** Outgoing buffer size above which send() returns false, in bytes. Default 64 KiB. */
  highWaterMark?: number;
  /** After close(), how long the peer gets to close before we destroy, in ms. Default 2000. */
  closeGraceMs?: number;
}

const DEFAULT_TIMEOUT_MS = 1000;
const DEFAULT_HWM = 64 * 1024;

/** Unix-socket {@link Transport} at one path (see socketPath() in src/common/paths.ts). */
export class UnixTransport implements Transport {
  constructor(
    /** Absolute path of the socket file. */
    readonly path: string,
    private readonly options: UnixOptions = {},
  ) {}

  listen(onConnection: (conn: Connection) => void): Promise<TransportServer> {
    return listenUnix(this.path, onConnection, this.options);
  }

  connect(): Promise<Connection> {
    return connectUnix(this.path, this.options);
  }
}

/**
 * Connects to the daemon's socket.
 * @throws ConnectError with code 'ENOENT' (no socket: no daemon), 'ECONNREFUSED' (stale socket:
 *   the daemon died), 'ETIMEDOUT' (no answer within connectTimeoutMs) or the errno of another failure
 */
export function connectUnix(path: string, options: UnixOptions = {}): Promise<Connection> {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // net.Socket hands its options to stream.Duplex, so highWaterMark applies as it does for
    // createServer (where it is documented); @types/node only lacks it on the client side.
    const connectOpts: NetConnectOpts & { highWaterMark: number } = {
      path,
      highWaterMark: options.highWaterMark ?? DEFAULT_HWM,
    };
    const socket = createConnection(connectOpts);
    const fail = (err: ConnectError): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new ConnectError(`omnishd did not answer on ${path} within ${timeoutMs} ms`, 'ETIMEDOUT')),
      timeoutMs,
    );
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'EUNKNOWN';
      const why =
        code === 'ENOENT' ? 'no socket there (is omnishd running?)'
        : code === 'ECONNREFUSED' ? 'nothing listens there (stale socket of a dead omnishd)'
        : err.message;
      fail(new ConnectError(`cannot connect to omnishd at ${path}: ${why}`, code, { cause: err }));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(new SocketConnection(socket, { peer: 'daemon', closeGraceMs: options.closeGraceMs }));
    });
  });
}

/** What is at a socket path: a live listener, a stale socket file, nothing, or no answer in time. */
function probe(path: string, timeoutMs: number): Promise<'alive' | 'stale' | 'missing' | 'timeout' | Error> {
  return new Promise((resolve) => {
    const socket: Socket = createConnection({ path });
    const done = (result: 'alive' | 'stale' | 'missing' | 'timeout' | Error): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.once('connect', () => done('alive'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'stale' : err.code === 'ENOENT' ? 'missing' : err),
    );
  });
}

/**
 * Makes way for a new listener at `path`: nothing there is fine; a stale socket (its daemon died,
 * connecting is refused) is removed; a live one is never taken over.
 * @throws DaemonRunningError if something answers (or holds the socket without answering)
 * @throws InsecurePathError if the path is not a socket
 */
async function clearSocketPath(path: string, timeoutMs: number): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new InsecurePathError(`${path} exists and is not a socket: move it away to start omnishd`, path);
  const state = await probe(path, timeoutMs);
  if (state === 'alive') throw new DaemonRunningError(`omnishd is already running (it answers on ${path})`, path);
  if (state === 'timeout') {
    throw new DaemonRunningError(`a process holds ${path} but does not answer within ${timeoutMs} ms (is omnishd hung?)`, path);
  }
  if (state instanceof Error) throw state;
  if (state === 'stale') {
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // another starter removed it first
    }
  }
}

function listenOn(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

/**
 * Listens on `path` (the daemon side): makes the directory private (0700), replaces a stale socket,
 * refuses to take over a live one, and makes the socket 0600.
 * @throws InsecurePathError if the directory is not private to the user (see ensurePrivateDir)
 * @throws DaemonRunningError if a daemon already answers on `path`
 */
export async function listenUnix(
  path: string,
  onConnection: (conn: Connection) => void,
  options: UnixOptions = {},
): Promise<TransportServer> {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  ensurePrivateDir(dirname(path));
  const connections = new Set<Connection>();
  const server = createServer({ highWaterMark: options.highWaterMark ?? DEFAULT_HWM }, (socket) => {
    const conn = new SocketConnection(socket, { peer: 'client', closeGraceMs: options.closeGraceMs });
    connections.add(conn);
    conn.onClose(() => connections.delete(conn));
    try {
      onConnection(conn);
    } catch (err) {
      conn.destroy(err instanceof Error ? err : new Error(String(err))); // one connection, not the daemon
    }
  });
  await clearSocketPath(path, timeoutMs);
  try {
    await listenOn(server, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    // Another starter created the socket between our check and listen(): look again, once.
    await clearSocketPath(path, timeoutMs);
    await listenOn(server, path);
  }
  // Between listen() and chmod the socket has the umask's mode; the 0700 directory already keeps
  // everyone else out, the 0600 is a second fence (and what `ls -l` shows the user).
  chmodSync(path, 0o600);
  return {
    address: path,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        // Node removes the socket file when a Unix-socket server closes.
        server.close(() => resolve());
        for (const c of connections) c.close();
      }),
  };
}
