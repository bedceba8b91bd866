/**
 * The daemon's request table on a real socket: each daemon serves its own table, its Welcome lists
 * the methods of that table, and a client asking an older daemon (one whose table lacks a method)
 * learns so from the handshake, without sending the request.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnsupportedRequestError, UsageError } from '../common/errors.js';
import { VERSION } from '../common/version.js';
import { request } from '../control/request.js';
import { llmCheck } from '../commands/doctor.js';
import { PROTOCOL_VERSION, REQUEST_METHODS, type Message, type StatusResult, type Welcome } from '../protocol/index.js';
import { SessionStore } from '../store/index.js';
import { loadOrCreateToken, UnixTransport, type TransportServer } from '../transport/index.js';
import { handleRequest, stateHandlers, STORE_COUNT_TTL_MS, type DaemonState, type RequestHandlers } from './control.js';
import { encodeFrame } from '../protocol/index.js';
import { helloFrame, rawPeer } from '../../test/helpers/peer.js';
import { waitUntil } from '../../test/helpers/wait.js';
import { MAX_PENDING_REQUESTS, MAX_UNREAD_BYTES } from './peer-limits.js';
import { serveConnection } from './server.js';
import { SessionManager } from './sessions.js';

const log = pino({ level: 'silent' });
let dir: string;
let savedSocket: string | undefined;
const servers: TransportServer[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnish-control-'));
  savedSocket = process.env.OMNISH_SOCKET;
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  if (savedSocket === undefined) delete process.env.OMNISH_SOCKET;
  else process.env.OMNISH_SOCKET = savedSocket;
  rmSync(dir, { recursive: true, force: true });
});

/** Every handler: the state ones for real, the others answering what a test can recognise. */
function fullTable(calls: string[]): RequestHandlers {
  const called = <T>(method: string, result: T): T => {
    calls.push(method);
    return result;
  };
  return {
    ...stateHandlers(),
    gc: () => called('gc', { freedBytes: 0, evicted: [], trimmed: [], totalBytesBefore: 0, totalBytesAfter: 0, errors: [] }),
    ask: () => called('ask', { answer: 'a', backend: 'b', model: 'm', usage: { inputTokens: 0, outputTokens: 0 } }),
    context: () => called('context', { system: '', user: '', stats: { sessions: 0, commands: 0, chars: 0, approxTokens: 0, redactions: [] } }),
    'doctor-llm': () => called('doctor-llm', { source: 'none', problem: 'none here', pid: process.pid, backends: [] }),
    'config-get': () => called('config-get', {}),
    'config-set': () => called('config-set', { ok: true }),
    'index-rebuild': () => called('index-rebuild', { state: 'ready', path: 'search.db', commands: 0, sessions: 0 }),
    suggestion: () => called('suggestion', { command: null }),
    'threads-rm': () => called('threads-rm', { removed: [] }),
    'config-reload': () => called('config-reload', {
      outcome: 'unchanged', changed: [], newShellsOnly: [], config: { file: 'c.toml', source: 'defaults', loadedAtMs: 0, problem: null },
    }),
  };
}

/** A daemon with `handlers` on its own socket in `name/`; makes it the one `request` talks to. */
async function daemon(name: string, handlers: RequestHandlers): Promise<string> {
  const runtime = join(dir, name);
  const socket = join(runtime, 'omnish.sock');
  const token = loadOrCreateToken(runtime);
  const sessions = new SessionManager(new SessionStore(join(runtime, 'sessions')), log);
  const state: DaemonState = { sessions, socket, startedAtMs: Date.now(), connections: () => 1 };
  servers.push(await new UnixTransport(socket).listen((conn) => serveConnection(conn, state, handlers, token, log)));
  process.env.OMNISH_SOCKET = socket;
  return socket;
}

/** The Welcome the daemon on `socket` answers a control Hello with. */
async function welcomeOf(socket: string): Promise<Welcome> {
  const conn = await new UnixTransport(socket).connect();
  try {
    const got = new Promise<Message>((resolve) => conn.onMessage(resolve));
    const token = loadOrCreateToken(join(socket, '..'));
    conn.send({ type: 'Hello', protocolVersion: PROTOCOL_VERSION, token, role: 'control', clientVersion: VERSION, pid: process.pid });
    const msg = await got;
    if (msg.type !== 'Welcome') throw new Error(`expected Welcome, got ${msg.type}`);
    return msg;
  } finally {
    conn.destroy();
  }
}

describe('request handlers', () => {
  it("the Welcome lists every method of the daemon's table, and request() gets typed results", async () => {
    const calls: string[] = [];
    const socket = await daemon('full', fullTable(calls));
    expect([...((await welcomeOf(socket)).methods ?? [])].sort()).toEqual([...REQUEST_METHODS].sort());
    const pong: { pong: true } = await request('ping');
    expect(pong).toEqual({ pong: true });
    expect((await request('status')).daemon.version).toBe(VERSION);
    expect((await request('doctor-llm')).problem).toBe('none here');
    expect(calls).toEqual(['doctor-llm']);
  });

  it('each daemon serves its own table: a method missing from one is not borrowed from another', async () => {
    const calls: string[] = [];
    await daemon('full', fullTable(calls));
    const { 'doctor-llm': _dropped, ...older } = fullTable(calls);
    const socket = await daemon('older', older as RequestHandlers); // an omnishd from before doctor-llm
    expect((await welcomeOf(socket)).methods).not.toContain('doctor-llm');
    const err = await request('doctor-llm').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedRequestError);
    expect((err as Error).message).toBe(`omnishd ${VERSION} does not answer 'doctor-llm': it is older than this omnish; run 'omnish daemon restart'`);
    expect(calls).toEqual([]); // told by the handshake: the request was never sent
    // And `omnish doctor` says so, as a warning.
    const status = await request('status');
    expect(await llmCheck(Promise.resolve(status))).toEqual([
      { name: 'llm', status: 'warn', detail: 'not checked: the running omnishd is older than this omnish', fix: "run 'omnish daemon restart'" },
    ]);
  });

  it('an unknown method, or a name of Object.prototype, is an unknown request', () => {
    const state = {} as DaemonState; // not reached
    const ctx = { emit: () => undefined, signal: new AbortController().signal };
    for (const method of ['bogus', 'constructor', 'toString']) {
      expect(() => handleRequest(fullTable([]), state, method, {}, ctx)).toThrow(new UsageError(`unknown request '${method}'`));
    }
  });
});

describe('what one authenticated control connection may cost', () => {
  const requests = (n: number, method = 'ping'): Buffer =>
    Buffer.concat(Array.from({ length: n }, (_, i) => encodeFrame({ type: 'Request', id: i + 1, method, params: {} })));

  it(`requests pipelined past ${MAX_PENDING_REQUESTS} unanswered end the connection with a Refused saying so`, async () => {
    const socket = await daemon('d', fullTable([]));
    const peer = rawPeer(socket);
    // One write: the daemon decodes them all from one chunk, before it has answered any.
    peer.sock.write(Buffer.concat([helloFrame(loadOrCreateToken(join(socket, '..')), 'control'), requests(1000)]));
    await peer.closed;
    const got = peer.received();
    expect(got[0]?.type).toBe('Welcome');
    expect(got.at(-1)).toEqual({ type: 'Refused', message: `more than ${MAX_PENDING_REQUESTS} requests unanswered on one connection` });
    // Before the fix all 1000 were answered: 1 M of them (34 MB) made omnishd hold 480 MB.
    expect(got.filter((m) => m.type === 'Response').length).toBeLessThanOrEqual(MAX_PENDING_REQUESTS);
    expect(await request('ping')).toEqual({ pong: true });
  });

  it(`a peer that leaves more than ${MAX_UNREAD_BYTES} bytes of answers unread is dropped`, async () => {
    const big = 'x'.repeat(1 << 20); // 1 MiB answers: the one after the eighth finds 8 MiB unread
    let answered = 0;
    const socket = await daemon('d', { ...fullTable([]), 'config-get': () => (answered++, { big }) });
    const peer = rawPeer(socket);
    peer.sock.pause(); // reads nothing until every request was answered
    peer.sock.write(Buffer.concat([helloFrame(loadOrCreateToken(join(socket, '..')), 'control'), requests(40, 'config-get')]));
    // Before the fix all 40 were answered (40 MiB queued) and the connection stayed open.
    await waitUntil(() => answered > 8 && servers[0]!.connections.size === 0, () => `the connection dropped (${answered} answered)`);
    expect(answered).toBeLessThan(40); // what was queued behind the drop is not run
    peer.sock.resume();
    await peer.closed;
    expect(peer.receivedBytes()).toBeLessThan(2 * MAX_UNREAD_BYTES + 1024);
    expect(peer.received().filter((m) => m.type === 'Response').length).toBeLessThan(40);
    expect(await request('ping')).toEqual({ pong: true });
  });

  it('requests pipelined on one connection are answered in order, one per turn of the event loop: another connection is served in between', async () => {
    let pings = 0;
    let pingsBeforeStatus = -1;
    const table = fullTable([]);
    const socket = await daemon('d', {
      ...table,
      ping: () => {
        for (const t0 = Date.now(); Date.now() - t0 < 20; ); // a handler that holds the event loop
        pings++;
        return { pong: true };
      },
      status: (...args) => {
        pingsBeforeStatus = pings;
        return table.status(...args);
      },
    });
    const peer = rawPeer(socket);
    await peer.connected;
    peer.sock.write(Buffer.concat([helloFrame(loadOrCreateToken(join(socket, '..')), 'control'), requests(40)]));
    await request('status');
    // Counted in requests, not ms, so that load cannot fail it: before, all 40 ran in the callback
    // that decoded them, ahead of everyone; now status waits a few turns of the loop, one ping each.
    expect(pingsBeforeStatus).toBeGreaterThanOrEqual(0);
    expect(pingsBeforeStatus).toBeLessThan(20);
    await waitUntil(() => peer.received().length === 41, 'every answer');
    expect(peer.received().slice(1).map((m) => (m.type === 'Response' ? m.id : m.type))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    peer.sock.destroy();
  });
});

describe('status', () => {
  it(`counts the store at most once per ${STORE_COUNT_TTL_MS} ms: the count reads every session (5,000 took 220 ms a status)`, () => {
    let clock = 1_000_000;
    const { status } = stateHandlers(() => clock);
    const store = new SessionStore(join(dir, 'sessions'));
    const state: DaemonState = { sessions: new SessionManager(store, log), socket: 's', startedAtMs: 0, connections: () => 1 };
    const ctx = { emit: () => undefined, signal: new AbortController().signal };
    const add = (id: string): void =>
      void store.create({ id, hostname: 'h', pid: 1, clientPid: 1, tty: '', shell: '/bin/sh', cwd: '/', term: 'x', cols: 80, rows: 24, startedAt: new Date(0).toISOString() }).end(0, null, 'exit', 0);
    const count = (): number => (status(state, {}, ctx) as StatusResult).store.sessions;
    add('000000000001');
    expect(count()).toBe(1);
    add('000000000002');
    clock += STORE_COUNT_TTL_MS - 1;
    expect(count()).toBe(1);
    clock += 1;
    expect(count()).toBe(2);
  });
});
