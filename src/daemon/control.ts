/**
 * Requests on control connections (`omnish status`, ...). Each daemon builds its own table of
 * handlers when it starts (`RequestHandlers`, one per method of the protocol's `Requests` map, so
 * a missing handler or a wrong result type does not compile) and hands it to every connection.
 * A handler returns plain data that travels as MessagePack in a Response; a thrown OmnishError
 * becomes `{ ok: false, error }`.
 */
import { VERSION } from '../common/version.js';
import { UsageError } from '../common/errors.js';
import type { ConfigStatus, EventData, EventKind, IndexStatusResult, RequestMethod, ResultOf, StatusResult, UntrustedParams } from '../protocol/index.js';
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
  /** The configuration in force and whether the file loads (config-reload.ts). */
  config?: () => ConfigStatus;
  /** The search index's state (indexer-thread.ts). */
  index?: () => IndexStatusResult;
}

/** What a handler gets besides its params: a way to stream Events before its result, and cancellation. */
export interface RequestContext {
  /** Sends an Event to the requesting client now (e.g. a piece of an answer). */
  emit: <K extends EventKind>(kind: K, data: EventData<K>) => void;
  /** Aborted when the client goes away (Ctrl-C in `omnish ask`). */
  signal: AbortSignal;
}

/**
 * How long `status` reuses its count of the store's sessions and bytes, ms. Counting reads every
 * session's meta.json and sizes its files, 45 to 60 µs a session (220 to 270 ms for 5,000):
 * recounting for every `status`, the request clients make most, let a few of them hold the daemon
 * for seconds (bench/store-count.ts measures it).
 */
export const STORE_COUNT_TTL_MS = 2000;

type StoreCount = Pick<StatusResult['store'], 'dir' | 'sessions' | 'bytes'>;

/** How many sessions the store holds and their bytes on disk. */
function countStore(sessions: SessionManager): StoreCount {
  const store: SessionStore = sessions.store;
  let all: ReturnType<SessionStore['list']> = [];
  try {
    all = store.list();
  } catch {
    // An unreadable directory is reported as a problem by the writes that fail; status still answers.
  }
  return { dir: store.root, sessions: all.length, bytes: all.reduce((n, s) => n + dirBytes(s.dir), 0) };
}

/** Answers method `M`: its params are as decoded (to be checked), its result is the protocol's. */
export type Handler<M extends RequestMethod> = (
  state: DaemonState,
  params: UntrustedParams<M>,
  ctx: RequestContext,
) => ResultOf<M> | Promise<ResultOf<M>>;

/** A daemon's handlers: one for every control method. */
export type RequestHandlers = { [M in RequestMethod]: Handler<M> };

/**
 * The handlers of the requests that need nothing but the daemon's state: `ping`, `status`, `sessions`.
 * `status` counts the store at most once per STORE_COUNT_TTL_MS; its store health and live sessions are current.
 * @param now - the clock, ms (tests pass their own)
 */
export function stateHandlers(now: () => number = Date.now): Pick<RequestHandlers, 'ping' | 'status' | 'sessions'> {
  let counted: { of: SessionManager; atMs: number; count: StoreCount } | undefined;
  const storeCount = (sessions: SessionManager): StoreCount => {
    if (counted?.of !== sessions || now() - counted.atMs >= STORE_COUNT_TTL_MS) counted = { of: sessions, atMs: now(), count: countStore(sessions) };
    return counted.count;
  };
  return {
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
      store: { ...storeCount(state.sessions), ...state.sessions.health.report() },
      sessions: [...state.sessions.liveSessions.values()].map(({ id, handle, info, integration }) => {
        const startedAt = handle?.meta.startedAt ?? new Date(info.startedAtMs).toISOString();
        return { id, tty: info.tty, shell: info.shell, cwd: info.cwd, startedAt, clientPid: info.clientPid, integration, relay: info.relay ?? 'unknown', inputRecording: info.inputRecording ?? 'off', stored: handle !== null };
      }),
      ...(state.config ? { config: state.config() } : {}),
      ...(state.index ? { index: state.index() } : {}),
    }),
    sessions: (state) => state.sessions.list(),
  };
}

/** The methods a table answers, for Welcome.methods. */
export function offeredMethods(handlers: RequestHandlers): string[] {
  return Object.keys(handlers);
}

/**
 * Runs one request with the daemon's handlers.
 * @throws UsageError for an unknown method.
 */
export function handleRequest(handlers: RequestHandlers, state: DaemonState, method: string, params: Record<string, unknown>, ctx: RequestContext): unknown {
  // Own keys only: a method named 'constructor' or 'toString' is unknown, not Object's.
  if (!Object.hasOwn(handlers, method)) throw new UsageError(`unknown request '${method}'`);
  const handler = handlers[method as RequestMethod] as Handler<RequestMethod>;
  return handler(state, params, ctx);
}
