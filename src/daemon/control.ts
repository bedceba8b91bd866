/**
 * Requests on control connections (`omnish status`, ...). Each handler returns plain data that
 * travels as MessagePack in a Response; a thrown OmnishError becomes `{ ok: false, error }`.
 */
import { VERSION } from '../common/version.js';
import { UsageError } from '../common/errors.js';
import { dirBytes, type SessionStore } from '../store/index.js';
import type { SessionManager } from './sessions.js';

/** What the handlers can see of the daemon. */
export interface DaemonState {
  sessions: SessionManager;
  socket: string;
  startedAtMs: number;
  connections: () => number;
  /** The default LLM backend as configured now ('auto' when chosen from the environment). */
  defaultBackend?: () => string;
}


/** Shape of the `status` result (`omnish status --json`). */
export interface StatusResult {
  daemon: { pid: number; version: string; uptimeS: number; socket: string; connections: number; defaultBackend: string };
  /** The session store: how many sessions, and bytes on disk. */
  store: { sessions: number; bytes: number };
  sessions: Array<{ id: string; tty: string; shell: string; cwd: string; startedAt: string; clientPid: number; integration: string }>;
}

/** What a handler gets besides its params: a way to stream Events before its result, and cancellation. */
export interface RequestContext {
  /** Sends an Event to the requesting client now (e.g. a piece of an answer). */
  emit: (kind: string, data: Record<string, unknown>) => void;
  /** Aborted when the client goes away (Ctrl-C in `omnish ask`). */
  signal: AbortSignal;
}

/** How many sessions the store holds and their bytes on disk. */
function storeSummary(store: SessionStore): StatusResult['store'] {
  const all = store.list();
  return { sessions: all.length, bytes: all.reduce((n, s) => n + dirBytes(s.dir), 0) };
}

type Handler = (state: DaemonState, params: Record<string, unknown>, ctx: RequestContext) => unknown;

const HANDLERS: Record<string, Handler> = {
  ping: () => ({ pong: true }),
  status: (state): StatusResult => ({
    daemon: {
      pid: process.pid,
      version: VERSION,
      uptimeS: Math.round((Date.now() - state.startedAtMs) / 1000),
      socket: state.socket,
      connections: state.connections(),
      defaultBackend: state.defaultBackend?.() ?? 'auto',
    },
    store: storeSummary(state.sessions.store),
    sessions: [...state.sessions.liveSessions.values()].map(({ handle, integration }) => {
      const m = handle.meta;
      return { id: m.id, tty: m.tty, shell: m.shell, cwd: m.cwd, startedAt: m.startedAt, clientPid: m.clientPid, integration };
    }),
  }),
  sessions: (state) => state.sessions.list(),
};

/**
 * Runs one request.
 * @throws UsageError for an unknown method.
 */
export function handleRequest(state: DaemonState, method: string, params: Record<string, unknown>, ctx: RequestContext): unknown {
  const handler = HANDLERS[method];
  if (!handler) throw new UsageError(`unknown request '${method}'`);
  return handler(state, params, ctx);
}

/** Adds (or replaces) a request handler; the LLM requests register themselves this way. */
export function registerHandler(method: string, handler: Handler): void {
  HANDLERS[method] = handler;
}
