/**
 * Requests on control connections (`omnish status`, ...). Each handler returns plain data that
 * travels as MessagePack in a Response; a thrown OmnishError becomes `{ ok: false, error }`.
 */
import { VERSION } from '../common/version.js';
import { UsageError } from '../common/errors.js';
import { dirBytes, type SessionStore } from '../store/index.js';
import type { SessionManager } from './sessions.js';
import type { StoreProblem } from './store-health.js';

export type { StoreProblem } from './store-health.js';

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
  /**
   * The session store: where, how many sessions, bytes on disk; `problem` while writes fail (disk
   * full, read-only: null when it is writable), `lastProblem` the last such episode that ended.
   * `sessions`/`bytes` are 0 when the directory cannot be read.
   */
  store: { dir: string; sessions: number; bytes: number; problem: StoreProblem | null; lastProblem: StoreProblem | null };
  /** The sessions recorded now; `stored` is false while the store cannot hold one (its bytes are counted as lost). */
  sessions: Array<{ id: string; tty: string; shell: string; cwd: string; startedAt: string; clientPid: number; integration: string; stored: boolean }>;
}

/** What a handler gets besides its params: a way to stream Events before its result, and cancellation. */
export interface RequestContext {
  /** Sends an Event to the requesting client now (e.g. a piece of an answer). */
  emit: (kind: string, data: Record<string, unknown>) => void;
  /** Aborted when the client goes away (Ctrl-C in `omnish ask`). */
  signal: AbortSignal;
}

/** How many sessions the store holds and their bytes on disk, and whether it can be written. */
function storeSummary(sessions: SessionManager): StatusResult['store'] {
  const store: SessionStore = sessions.store;
  let all: ReturnType<SessionStore['list']> = [];
  try {
    all = store.list();
  } catch {
    // An unreadable directory is reported as a problem by the writes that fail; status still answers.
  }
  return { dir: store.root, sessions: all.length, bytes: all.reduce((n, s) => n + dirBytes(s.dir), 0), ...sessions.health.report() };
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
    store: storeSummary(state.sessions),
    sessions: [...state.sessions.liveSessions.values()].map(({ id, handle, info, integration }) => {
      const startedAt = handle?.meta.startedAt ?? new Date(info.startedAtMs).toISOString();
      return { id, tty: info.tty, shell: info.shell, cwd: info.cwd, startedAt, clientPid: info.clientPid, integration, stored: handle !== null };
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
