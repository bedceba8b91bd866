/**
 * How sessions and commands are written in the LLM context: one header line per command, the
 * command line after `$ `, the rendered output below; a session's attributes on its opening tag.
 * Compact on purpose: every character here is paid for in tokens.
 */
import { shortDurationUs } from '../common/format.js';
import type { CommandRecord, StoredSession } from '../store/index.js';
import { sessionOpen } from './prompt.js';

/** A duration in µs, short: "0.4s", "12s", "3m05s", "2h04m". */
export const duration = shortDurationUs;

/** How long ago, from ms: "just now", "42s ago", "5m ago", "3h ago", "2d ago". */
export function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** "2026-11-21 13:53:03 UTC". */
export function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** When a command finished: ms since the epoch. */
export function finishedAt(session: StoredSession, record: CommandRecord): number {
  return Date.parse(session.startedAt) + record.endedAtUs / 1000;
}

/**
 * The lines that introduce a command:
 * `--- command 3 · exit 2 · 13.8s · 5m ago · cwd /home/me/src` then `$ make -j4` (continuation
 * lines of a multi-line command start with `> `).
 */
export function commandHeader(session: StoredSession, record: CommandRecord, now: number): string[] {
  const status = record.exitCode === null ? 'exit status unknown' : `exit ${record.exitCode}`;
  const parts = [`command ${record.seq}`, status, duration(record.endedAtUs - record.startedAtUs), ago(now - finishedAt(session, record))];
  if (record.cwd !== null) parts.push(`cwd ${record.cwd}`);
  const lines = (record.command ?? '(command line not reported)').split('\n');
  return [`--- ${parts.join(' · ')}`, ...lines.map((l, i) => `${i === 0 ? '$' : '>'} ${l}`)];
}

/** Said instead of the output of a command that used the alternate screen. */
export const ALT_SCREEN_NOTE = '(full-screen program on the alternate screen, e.g. an editor or pager: its screen is not included)';
/** Said for a command that printed nothing. */
export const NO_OUTPUT_NOTE = '(no output)';
/** Heads the output tail of a session without command records. */
export const NO_INTEGRATION_NOTE = '--- no command records (shell integration was off or unavailable): the last lines of the terminal follow';
/** Heads what an active session showed after its last finished command. */
export const LIVE_NOTE = '--- output after the last finished command (a command may still be running)';

/** Stands for the start of a session's output when only its end was read. */
export const EARLIER_OUTPUT_NOTE = '[… earlier output omitted …]';

/** "[… 3 earlier commands not shown …]". */
export function commandsNotShown(n: number, where: 'earlier' | '' | 'later'): string {
  const what = `${where === '' ? '' : `${where} `}command${n === 1 ? '' : 's'}`;
  return `[… ${n} ${what} not shown …]`;
}

/** How a session ended, for its header: "active", "ended (exit 0)", "ended (daemon-shutdown)". */
function state(s: StoredSession): string {
  if (s.active) return 'active';
  if (s.endReason === 'exit') return s.exitCode === null ? `ended (signal ${s.signal ?? '?'})` : `ended (exit ${s.exitCode})`;
  return `ended (${s.endReason ?? 'unknown'})`;
}

/** The opening tag of a session block: id, tty, shell, host, cwd at start, start time, state, whether it is the asker's own. */
export function sessionHeader(s: StoredSession, current: boolean, commands: number): string {
  const attrs: Record<string, string> = {
    id: s.id, tty: s.tty, shell: s.shell, host: s.hostname, cwd: s.cwd, started: utc(Date.parse(s.startedAt)),
    state: state(s), commands: String(commands),
  };
  if (current) attrs.current = 'yes';
  return sessionOpen(attrs);
}
