/**
 * `omnish sessions`: the recorded sessions, newest first. Reads the store directly, so it works
 * whether or not the daemon runs.
 */
import { safeJson, sanitizeLine } from '../common/sanitize.js';
import { listSessions, type SessionSummary } from '../tools/sessions.js';
import { localTime, shortDuration, table, tildify } from './format.js';
import type { CommandSpec } from './registry.js';

export { listSessions, summarize, type SessionSummary } from '../tools/sessions.js';

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
