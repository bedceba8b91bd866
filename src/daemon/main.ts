/**
 * `omnishd`: the per-user daemon. `--foreground` runs it in this process (for service managers);
 * without it, omnishd starts itself detached, waits until it answers, and returns.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { configPath, daemonPidPath, runtimeDir, sessionsDir, socketPath, threadsDir } from '../common/paths.js';
import { EXIT_ALREADY_RUNNING, pidAlive } from '../common/process.js';
import { VERSION } from '../common/version.js';
import { isUserFacing, UsageError } from '../common/errors.js';
import type { OmnishConfig } from '../config/config.js';
import { SessionStore, ThreadStore, type RetentionReport } from '../store/index.js';
import { loadOrCreateToken, UnixTransport, type TransportServer } from '../transport/index.js';
import { acquireLock, lockHolderPid } from './lock.js';
import { openLog, type DaemonLog, type Logger } from './log.js';
import { configHandlers } from './config-requests.js';
import { ConfigReloader } from './config-reload.js';
import { watchConfig } from './config-watch.js';
import { stateHandlers, type RequestHandlers } from './control.js';
import { doctorHandlers } from './doctor-requests.js';
import { AutoExplainer } from './explain.js';
import { LlmService, parseScope } from './llm.js';
import { serveConnection } from './server.js';
import { SessionManager } from './sessions.js';
import { ThreadKeeper } from './threads.js';
import { IndexerThread } from './indexer-thread.js';
import { indexPath } from '../search/index.js';
import { startDetached } from '../control/autostart.js';

/**
 * How often every live session's buffered stream data goes to disk, and sessions without files are
 * retried (ms). A backstop: what a connection delivers is written at the end of the event-loop turn
 * that read it (SessionManager.record), and a write that failed is retried no sooner than 1 s.
 */
const FLUSH_INTERVAL_MS = 200;
/** How often the `[store]` limits are applied (ms), besides at start and on `omnish gc`. */
const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

const USAGE = `Usage: omnishd [--foreground]

The omnish daemon: records the terminal sessions of every omnish client of this user.
Clients start it on demand; you rarely need to run it yourself.

Options:
  --foreground   run in this process (for systemd and other service managers)
  -V, --version  print the version
  -h, --help     show this help

Exit status: 0 stopped by a signal; 1 cannot serve (the reason is on stderr and in the log);
2 bad usage; ${EXIT_ALREADY_RUNNING} another omnishd already runs for this user's socket.
`;

/** Entry point used by bin/omnishd.js. */
export async function main(args: string[]): Promise<void> {
  const arg = args[0];
  if (arg === '-h' || arg === '--help') return void process.stdout.write(USAGE);
  if (arg === '-V' || arg === '--version') return void process.stdout.write(`${VERSION}\n`);
  if (arg !== undefined && arg !== '--foreground') {
    process.stderr.write(`omnishd: unknown option '${arg}'\n${USAGE}`);
    process.exit(2);
  }
  if (arg === '--foreground') return runForeground();
  try {
    const pid = await startDetached();
    process.stdout.write(`omnishd running (pid ${pid})\n`);
  } catch (err) {
    // "omnishd could not start: ..." reads "omnishd: could not start: ..." here.
    process.stderr.write(`omnishd: ${(err as Error).message.replace(/^omnishd /, '')}\n`);
    process.exit(1);
  }
}

/**
 * `ask` streams the answer as 'ask-chunk' Events, each tool call as an 'ask-tool' Event, and stores
 * the exchange as a thread (threads.ts); `context` returns what would be sent; `threads-rm` deletes
 * threads; `suggestion` returns the session's latest suggested command.
 */
function llmHandlers(llm: LlmService, threads: ThreadKeeper, store: SessionStore): Pick<RequestHandlers, 'ask' | 'context' | 'threads-rm' | 'suggestion'> {
  return {
    ask: (_state, params, ctx) => threads.ask(params, (text) => ctx.emit('ask-chunk', { text }), ctx.signal, { onTool: (data) => ctx.emit('ask-tool', data) }),
    context: (_state, params) => llm.context(parseScope(params)),
    'threads-rm': (_state, params) => threads.remove(params),
    suggestion: async (_state, params) => {
      if (typeof params.session !== 'string' || params.session === '') throw new UsageError('suggestion needs a session');
      // `::fix` in a shell that has just started: its session may not be registered yet.
      await llm.waitForSession(params.session.toLowerCase());
      const found = llm.suggestions.get(store.resolve(params.session.toLowerCase()).id);
      return found ? { command: found.command, atMs: found.atMs } : { command: null };
    },
  };
}

/**
 * Applies the `[store]` limits, to sessions and then to threads, and keeps the search index in step
 * with what they deleted and cut.
 */
function retain(sessions: SessionManager, config: OmnishConfig, indexer: IndexerThread, threads: ThreadKeeper, dryRun = false): RetentionReport {
  const report = sessions.retain(config.store, dryRun);
  if (!dryRun) indexer.retained(report);
  return threads.retain(report, dryRun);
}

/** The `gc` request (`{ dryRun?: boolean }`): applies the `[store]` limits now and returns the RetentionReport. */
function gcHandler(sessions: SessionManager, config: OmnishConfig, indexer: IndexerThread, threads: ThreadKeeper): Pick<RequestHandlers, 'gc'> {
  return { gc: (_state, params) => retain(sessions, config, indexer, threads, params.dryRun === true) };
}

/**
 * Applies the `[store]` limits now (before any client connects, so only ended sessions are there to
 * judge) and every RETENTION_INTERVAL_MS. The timer is unref'd: it never keeps the daemon alive.
 */
function scheduleRetention(sessions: SessionManager, config: OmnishConfig, indexer: IndexerThread, threads: ThreadKeeper, log: Logger): NodeJS.Timeout {
  const quietly = (): void => {
    try {
      retain(sessions, config, indexer, threads);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'retention failed');
    }
  };
  quietly();
  return setInterval(quietly, RETENTION_INTERVAL_MS).unref();
}

/**
 * A daemon that cannot serve (no usable runtime directory, socket, log or store) says why and
 * stops: one line on stderr (seen with --foreground; an autostarted daemon has no stderr), the same
 * in its log when the log could be opened, and exit status 1. Never a retry loop: the client's
 * autostart decides whether to try again (transport/autostart.ts).
 */
async function cannotServe(err: unknown, daemonLog?: DaemonLog): Promise<never> {
  const message = err instanceof Error ? err.message : String(err);
  // An errno error (EACCES, ENOENT, ...) or one of ours explains itself; anything else is a bug.
  const stack = err instanceof Error && !isUserFacing(err) && !('code' in err) ? err.stack : undefined;
  process.stderr.write(`omnishd: cannot start: ${message}\n`);
  if (daemonLog) {
    daemonLog.log.fatal({ err: message, stack }, 'omnishd cannot serve; exiting');
    await daemonLog.close();
  }
  process.exit(1);
}

/**
 * The pid of the omnishd that holds the lock for `socket`: its own answer on the lock, else the pid
 * file if it names a live process (an omnishd from before the lock answered); undefined if neither.
 */
async function runningPid(socket: string): Promise<number | undefined> {
  const pid = await lockHolderPid(socket);
  if (pid) return pid;
  try {
    const fromFile = Number(readFileSync(daemonPidPath(), 'utf8').trim());
    return Number.isInteger(fromFile) && fromFile > 0 && pidAlive(fromFile) ? fromFile : undefined;
  } catch {
    return undefined;
  }
}

async function runForeground(): Promise<void> {
  const socket = socketPath();
  let lock: Server | null;
  try {
    lock = await acquireLock(socket);
  } catch (err) {
    return cannotServe(err);
  }
  if (!lock) {
    const pid = await runningPid(socket);
    process.stderr.write(`omnishd: another omnishd${pid ? ` (pid ${pid})` : ''} is already running for ${socket}\n`);
    process.exit(EXIT_ALREADY_RUNNING);
  }
  let daemonLog: DaemonLog | undefined;
  try {
    daemonLog = openLog();
    await serve(socket, lock, daemonLog);
  } catch (err) {
    await cannotServe(err, daemonLog);
  }
}

/** Everything after the lock: config, store, socket; then runs until a signal stops it. */
async function serve(socket: string, lock: Server, { log, flush: flushLog }: DaemonLog): Promise<void> {
  const startedAtMs = Date.now();
  const token = loadOrCreateToken(runtimeDir());
  // A broken config must not stop the recording of sessions: omnishd runs on the defaults, says
  // where the file is wrong (log, status), and takes the file once it loads.
  const reloader = new ConfigReloader(configPath(), log);
  const config = reloader.config;
  const store = new SessionStore(sessionsDir());
  const sessions = new SessionManager(store, log, config.events);
  sessions.sweepOrphans();
  // The search index: derived from the store, written off the recording's path (indexer.ts).
  const indexer = new IndexerThread(indexPath(), store, log);
  sessions.onCommand = (meta, finished) => indexer.add(meta, finished);
  indexer.start(); // first: the retention run below tells it what it deleted and cut
  const llm = new LlmService(store, config, log);
  const threads = new ThreadKeeper(new ThreadStore(threadsDir()), store, llm, config, log);
  const retention = scheduleRetention(sessions, config, indexer, threads, log);
  reloader.attach({ llm, sessions });
  // This daemon's own table: every control method of the protocol, each with its handler.
  const handlers: RequestHandlers = {
    ...stateHandlers(),
    ...gcHandler(sessions, config, indexer, threads),
    'index-rebuild': () => indexer.rebuild(),
    ...llmHandlers(llm, threads, store),
    ...doctorHandlers(config),
    ...configHandlers({ config, llm, sessions, log }, reloader),
  };
  const explainer = new AutoExplainer(llm, config.llm.autoTrigger, log);
  sessions.onEvent = (session, kind, record) => explainer.consider(session, kind, record);
  explainer.onExplained = (id, record, question, sent, result, at) => threads.explained(id, record, question, sent, result, at);
  const holder: { server?: TransportServer } = {};
  const state = {
    sessions,
    socket,
    startedAtMs,
    connections: () => holder.server?.connections.size ?? 0,
    defaultBackend: () => config.llm.default ?? 'auto',
    config: () => reloader.status(),
    index: () => indexer.status(),
  };
  const server = await new UnixTransport(socket).listen((conn) => serveConnection(conn, state, handlers, token, log));
  holder.server = server;
  writeFileSync(daemonPidPath(), `${process.pid}\n`, { mode: 0o600 });
  const flusher = setInterval(() => sessions.flushAll(), FLUSH_INTERVAL_MS);
  const reload = (trigger: string): void => {
    try {
      reloader.reload(trigger);
    } catch (err) {
      // A bug: the daemon goes on with the config it has.
      log.error({ trigger, err: (err as Error).message, stack: (err as Error).stack }, 'config reload failed');
    }
  };
  const watcher = watchConfig(reloader.file, () => reload('file change'));
  log.info({ socket, version: VERSION, config: reloader.file }, 'omnishd started');

  let stopping = false;
  const stop = async (why: string, code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearInterval(flusher);
    clearInterval(retention);
    watcher.close();
    sessions.shutdown();
    await indexer.close();
    await server.close();
    rmSync(socket, { force: true });
    rmSync(daemonPidPath(), { force: true });
    log.info({ why }, 'omnishd stopped');
    flushLog();
    lock.close();
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));
  // Detached, a hangup is not a reason to stop; by convention it asks a daemon to read its config again.
  process.on('SIGHUP', () => reload('SIGHUP'));
  process.on('uncaughtException', (err) => {
    log.fatal({ err: err.message, stack: err.stack }, 'uncaught exception');
    void stop('crash', 1);
  });
}
