/**
 * Accepting connections: the handshake (Hello → Welcome or Refused), then either a session stream
 * or control requests. Any protocol violation closes that one connection and nothing else.
 *
 * The requests of one control connection are answered one at a time, in order, each started in a
 * turn of the event loop of its own: a peer that pipelines requests then holds the daemon for one
 * request at a time, and the other connections are served in between.
 */
import { checkHello, eventMessage, PROTOCOL_VERSION, type Message } from '../protocol/index.js';
import { isUserFacing } from '../common/errors.js';
import { VERSION } from '../common/version.js';
import type { Connection } from '../transport/index.js';
import { handleRequest, offeredMethods, type DaemonState, type RequestContext, type RequestHandlers } from './control.js';
import type { Logger } from './log.js';
import { MAX_PENDING_REQUESTS, readingPeer } from './peer-limits.js';
import type { LiveSession } from './sessions.js';

/** A peer must say Hello within this time (ms) or it is dropped. */
const HELLO_TIMEOUT_MS = 5000;

/** Resolves in the check phase of the event loop, after the I/O that is waiting now has been read. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Serves one connection until it closes.
 * @param handlers - the daemon's request handlers (built once when it starts, shared by its connections)
 */
export function serveConnection(accepted: Connection, state: DaemonState, handlers: RequestHandlers, token: string, log: Logger): void {
  const conn = readingPeer(accepted, log); // the session's Events go through it too
  let phase: 'hello' | 'session-start' | 'session' | 'control' = 'hello';
  let session: LiveSession | undefined;
  /** Requests of this control connection not answered yet (queued or running). */
  let pending = 0;
  /** The end of this connection's request queue. */
  let queue: Promise<void> = Promise.resolve();
  const aborted = new AbortController();
  const helloTimer = setTimeout(() => refuse('no Hello within 5 s'), HELLO_TIMEOUT_MS);
  helloTimer.unref();

  function refuse(message: string): void {
    log.warn({ message }, 'refused connection');
    conn.send({ type: 'Refused', message });
    conn.close();
  }

  function violation(message: string): void {
    log.warn({ message, phase }, 'protocol violation; closing connection');
    conn.destroy(new Error(message));
  }

  conn.onMessage((msg: Message) => {
    try {
      dispatch(msg);
    } catch (err) {
      log.error({ err: (err as Error).message, stack: isUserFacing(err) ? undefined : (err as Error).stack }, 'failed to handle message');
      if (phase !== 'control') conn.destroy(err as Error);
    }
  });

  conn.onClose((err) => {
    clearTimeout(helloTimer);
    aborted.abort();
    if (err) log.debug({ err: err.message }, 'connection closed with error');
    if (session) state.sessions.detach(session, 'client-lost');
  });

  function dispatch(msg: Message): void {
    switch (phase) {
      case 'hello': {
        if (msg.type !== 'Hello') return violation(`expected Hello, got ${msg.type}`);
        clearTimeout(helloTimer);
        const problem = checkHello(msg, token);
        if (problem) return refuse(problem);
        conn.send({ type: 'Welcome', protocolVersion: PROTOCOL_VERSION, daemonVersion: VERSION, daemonPid: process.pid, methods: offeredMethods(handlers) });
        phase = msg.role === 'session' ? 'session-start' : 'control';
        return;
      }
      case 'session-start': {
        if (msg.type !== 'SessionStart') return violation(`expected SessionStart, got ${msg.type}`);
        const busy = state.sessions.refusal(msg); // a live session belongs to its connection
        if (busy) return refuse(busy);
        session = state.sessions.start(conn, msg);
        phase = 'session';
        return;
      }
      case 'session':
        if (!session) return violation('no session');
        if (msg.type === 'IoData' || msg.type === 'Resize' || msg.type === 'Gap') return state.sessions.record(session, msg);
        if (msg.type === 'SessionEnd') {
          state.sessions.end(session, msg);
          session = undefined;
          conn.close();
          return;
        }
        return violation(`unexpected ${msg.type} on a session connection`);
      case 'control':
        if (msg.type !== 'Request') return violation(`expected Request, got ${msg.type}`);
        if (pending >= MAX_PENDING_REQUESTS) return refuse(`more than ${MAX_PENDING_REQUESTS} requests unanswered on one connection`);
        pending++;
        queue = queue.then(() => nextTurn()).then(() => (aborted.signal.aborted ? undefined : answer(msg.id, msg.method, msg.params))).finally(() => pending--);
        return;
    }
  }

  /** Runs a request (possibly long, streaming Events) and sends its Response. */
  async function answer(id: number, method: string, params: Record<string, unknown>): Promise<void> {
    const ctx: RequestContext = {
      emit: (kind, data) => void conn.send(eventMessage('', kind, data)),
      signal: aborted.signal,
    };
    try {
      const result = await handleRequest(handlers, state, method, params, ctx);
      conn.send({ type: 'Response', id, ok: true, result });
    } catch (err) {
      if (!isUserFacing(err)) log.error({ method, err: (err as Error).message, stack: (err as Error).stack }, 'request failed');
      conn.send({ type: 'Response', id, ok: false, error: isUserFacing(err) ? err.message : `internal error in omnishd (see its log): ${(err as Error).message}` });
    }
  }
}
