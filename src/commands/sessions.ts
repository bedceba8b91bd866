/**
 * `omnish sessions`: the recorded sessions, newest first. Reads the store directly, so it works
 * whether or not the daemon runs.
 */
import { pidAlive } from '../common/process.js';
import { safeJson, sanitizeLine } from '../common/sanitize.js';
// The two store modules it reads with, not the whole store (start-up: no reader, renderer, retention).
import { readCommandRecords } from '../store/records.js';
import { SessionStore, type StoredSession } from '../store/store.js';
import { localTime, shortDuration, table, tildify } from './format.js';
import type { CommandSpec } from './registry.js';

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

function status(s: SessionSummary): string {
  if (s.active) return 'active';
  if (s.endReason === 'exit') return s.signal ? `killed (${s.signal})` : `exit ${s.exitCode}`;
  return s.endReason ?? 'ended';
}

/** `text` cut to `max` characters (whole code points) with an ellipsis. */
function clipText(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

function render(sessions: SessionSummary[]): string {
  if (sessions.length === 0) return 'No sessions recorded yet. Start a shell with `omnish`.\n';
  const now = Date.now();
  // tty, shell and cwd come from the client, command lines from the terminal: every cell is sanitized.
  const rows = sessions.map((s) => [
    s.id,
    status(s),
    shortDuration(now - Date.parse(s.startedAt)),
    localTime(s.startedAt),
    s.tty.replace(/^\/dev\//, ''),
    s.shell.split('/').pop() ?? s.shell,
    tildify(s.lastCwd),
    clipText(sanitizeLine(s.lastCommand ?? ''), 40),
  ].map(sanitizeLine));
  return table(['ID', 'STATUS', 'AGE', 'STARTED', 'TTY', 'SHELL', 'CWD', 'LAST COMMAND'], rows);
}

export const sessionsCommand: CommandSpec<[], { json?: boolean }> = {
  name: 'sessions',
  summary: 'list recorded sessions (active first, then newest)',
  usage: { options: [{ flags: '--json', description: 'print a JSON array of sessions' }] },
  run(io, _args, opts) {
    const sessions = listSessions();
    io.out(opts.json ? `${safeJson(sessions)}\n` : render(sessions));
  },
};
