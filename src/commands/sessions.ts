/**
 * `omnish sessions`: the recorded sessions, newest first. Reads the store directly, so it works
 * whether or not the daemon runs.
 */
import { pidAlive } from '../common/process.js';
import type { Command } from 'commander';
import { SessionStore, type StoredSession } from '../store/index.js';
import { localTime, shortDuration, table, tildify } from './format.js';
import { io } from './io.js';
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
}


/** A session is active while its omnish client runs (meta.json alone can be stale after a daemon crash). */
export function summarize(s: StoredSession): SessionSummary {
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

function render(sessions: SessionSummary[]): string {
  if (sessions.length === 0) return 'No sessions recorded yet. Start a shell with `omnish`.\n';
  const now = Date.now();
  const rows = sessions.map((s) => [
    s.id,
    localTime(s.startedAt),
    s.active ? shortDuration(now - Date.parse(s.startedAt)) : shortDuration(Date.parse(s.endedAt ?? s.startedAt) - Date.parse(s.startedAt)),
    status(s),
    s.tty.replace(/^\/dev\//, ''),
    s.shell.split('/').pop() ?? s.shell,
    tildify(s.cwd),
  ]);
  return table(['ID', 'STARTED', 'LENGTH', 'STATUS', 'TTY', 'SHELL', 'CWD'], rows);
}

export const sessionsCommand: CommandSpec = {
  name: 'sessions',
  summary: 'list recorded sessions (active first, then newest)',
  register(cmd: Command) {
    cmd.option('--json', 'print a JSON array of sessions').action((opts: { json?: boolean }) => {
      const sessions = listSessions();
      io().out(opts.json ? `${JSON.stringify(sessions, null, 2)}\n` : render(sessions));
    });
  },
};
