/**
 * The sessions as the tools (and `omnish sessions`, `omnish show`) see them: a summary of each,
 * and the session a reference means. Reads the store's meta and records only (light: loaded at
 * the start of every command that lists sessions).
 */
import { UsageError } from '../common/errors.js';
import { pidAlive } from '../common/process.js';
// The two store modules it reads with, not the whole store (start-up: no reader, renderer, retention).
import { readCommandRecords } from '../store/records.js';
import { SessionStore, type StoredSession } from '../store/store.js';

/** One session as `--json` prints it. */
export interface SessionSummary {
  id: string;
  startedAt: string;
  endedAt: string | null;
  active: boolean;
  exitCode: number | null;
  signal: number | null;
  endReason: string | null;
  shell: string;
  cwd: string;
  hostname: string;
  tty: string;
  pid: number;
  /** The last recorded command line (first line), null without shell integration or commands. */
  lastCommand: string | null;
  /** Where the last recorded command ran, else where the session started. */
  lastCwd: string;
}

/** The last command record of a session (events.jsonl), if any; never throws. */
function lastCommand(s: StoredSession): { command: string | null; cwd: string | null } | undefined {
  try {
    const records = readCommandRecords(s.dir);
    const last = records[records.length - 1];
    if (!last) return undefined;
    // readCommandRecords checks the numeric fields only; a broken writer's text fields show as unknown.
    return { command: typeof last.command === 'string' ? last.command : null, cwd: typeof last.cwd === 'string' ? last.cwd : null };
  } catch {
    return undefined;
  }
}


/** A session is active while its omnish client runs (meta.json alone can be stale after a daemon crash). */
export function summarize(s: StoredSession): SessionSummary {
  const last = lastCommand(s);
  const active = s.active && pidAlive(s.clientPid);
  return {
    id: s.id,
    startedAt: s.startedAt,
    endedAt: s.endedAt,
    active,
    exitCode: s.exitCode,
    signal: s.signal,
    endReason: s.endReason,
    shell: s.shell,
    cwd: s.cwd,
    hostname: s.hostname,
    tty: s.tty,
    pid: s.pid,
    lastCommand: last?.command?.split('\n')[0] ?? null,
    lastCwd: last?.cwd ?? s.cwd,
  };
}

/** Every stored session, active ones first, then newest first. */
export function listSessions(store = new SessionStore()): SessionSummary[] {
  const all = store.list().map(summarize);
  return [...all.filter((s) => s.active), ...all.filter((s) => !s.active)];
}

/**
 * The session a command means: `id` (a unique prefix), else the session this shell runs in
 * (`$OMNISH_SESSION`), else the newest one.
 * @throws UsageError for an unknown or ambiguous id, or when no session is recorded
 */
export function pickSession(store: SessionStore, id?: string, env: NodeJS.ProcessEnv = process.env): StoredSession {
  if (id !== undefined) return store.resolve(id);
  const own = env.OMNISH_SESSION;
  if (own) {
    try {
      return store.resolve(own);
    } catch (err) {
      // This shell's session is not recorded (the daemon was away when it started): fall back.
      if (!(err instanceof UsageError)) throw err;
    }
  }
  const newest = store.list()[0];
  if (!newest) throw new UsageError('no sessions recorded yet');
  return newest;
}

