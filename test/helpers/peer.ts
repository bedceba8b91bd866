/**
 * Speaking to a test daemon's socket at the byte level, as a hostile or a well-behaved peer would:
 * raw connections that record what the daemon answers, hand-made frames, the daemon's token.
 * Shared by the limit tests, the fuzz test and the fuzz script (no pty here).
 */
import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { pack } from 'msgpackr';
import { FrameDecoder, PROTOCOL_VERSION, encodeFrame, type Message, type Role, type SessionStart } from '../../src/protocol/index.js';
import { testEnv } from './env.js';

/** The socket of test directory `dir`'s daemon. */
export function daemonSocket(dir: string): string {
  return testEnv(dir).OMNISH_SOCKET!;
}

/** The auth token the daemon of `dir` wrote beside its socket (it exists once the daemon answers). */
export function daemonToken(dir: string): string {
  return readFileSync(join(dirname(daemonSocket(dir)), 'token'), 'utf8').trim();
}

/** A raw connection to a daemon. */
export interface RawPeer {
  sock: Socket;
  /** What the daemon sent so far, decoded. @throws ProtocolError if it sent something malformed */
  received: () => Message[];
  /** Bytes the daemon sent so far. */
  receivedBytes: () => number;
  /** Resolves when the socket is closed, by either side. */
  closed: Promise<void>;
  /** Resolves when connected; rejects if connecting failed. */
  connected: Promise<void>;
}

/** Opens a raw connection to the daemon at `socket` that collects what it answers and notes when it is closed. */
export function rawPeer(socket: string): RawPeer {
  const sock = createConnection(socket);
  const chunks: Buffer[] = [];
  let bytes = 0;
  sock.on('data', (c: Buffer) => {
    chunks.push(c);
    bytes += c.length;
  });
  const connected = new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  connected.catch(() => undefined); // a caller that does not await it must not see an unhandled rejection
  sock.on('error', () => undefined); // EPIPE/ECONNRESET once the daemon closes: expected here
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  return {
    sock,
    received: () => new FrameDecoder({ from: 'daemon', onUnknown: 'skip' }).push(Buffer.concat(chunks)),
    receivedBytes: () => bytes,
    closed,
    connected,
  };
}

/** A frame with a hand-made header and payload (MessagePack of `payload`), bypassing encodeFrame's validation. */
export function rawFrame(code: number, payload: unknown): Buffer {
  return frameOf(code, pack(payload));
}

/** A frame of type `code` around payload bytes as they are; `length` (default theirs) is what the header claims. */
export function frameOf(code: number, payload: Uint8Array, length = payload.length): Buffer {
  const h = Buffer.from([0x4f, 0x4d, 0, 0, 0, 0, code]);
  h.writeUInt32BE(length, 2);
  return Buffer.concat([h, payload]);
}

/** A valid Hello frame with `token`. */
export function helloFrame(token: string, role: Role): Buffer {
  return encodeFrame({ type: 'Hello', protocolVersion: PROTOCOL_VERSION, token, role, clientVersion: 'test', pid: process.pid });
}

/** A valid SessionStart frame of session `sessionId` (12 hex chars), as this process's session. */
export function sessionStartFrame(sessionId: string, extra: Partial<SessionStart> = {}): Buffer {
  return encodeFrame({
    type: 'SessionStart', sessionId, resume: false, startedAtMs: Date.now(), shell: '/bin/sh', shellPid: process.pid,
    clientPid: process.pid, tty: '', cwd: '/', term: 'dumb', cols: 80, rows: 24, hostname: 'test', ...extra,
  });
}
