/**
 * What the search index knows about the command a request is about (an auto-explanation's failed
 * command, else the last failed one of the asking session): how often it ran before in the same
 * directory, how often that failed, and when it last succeeded. The LLM layer may not read the
 * index itself: the daemon hands the builder a CommandHistory (src/daemon/command-history.ts).
 * The line written names the command by its number only: its text is terminal data.
 */
import type { CommandRecord } from '../store/index.js';
import { ago, finishedAt } from './context-format.js';
import type { SessionInfo } from './context-read.js';

/** Earlier runs of one command line in one directory, as the index has them. */
export interface CommandHistoryFacts {
  /** Runs before this one (same command line, same cwd), all sessions. */
  runs: number;
  /** Of those, how many exited with a status other than 0. */
  failures: number;
  /** The last run that exited 0, if any: when it ended (ms since the epoch), its session and seq. */
  lastSuccess?: { atMs: number; session: string; seq: number };
  /** True when `runs` stopped counting at the look-up's limit (there may be more). */
  capped?: boolean;
}

/** The look-up the daemon supplies. */
export interface CommandHistory {
  /**
   * Earlier runs of `command` in exactly `cwd` that ended before `beforeMs`, the command itself
   * (session, seq) left out; null when the index cannot say (none yet, no SQLite). Never throws.
   */
  earlierRuns(q: { command: string; cwd: string; beforeMs: number; session: string; seq: number }): Promise<CommandHistoryFacts | null>;
}

/** The command of the current session the history is about: `focusSeq`, else its last failed command. */
export function historyFocus(sessions: readonly SessionInfo[], focusSeq: number | undefined): { session: SessionInfo; record: CommandRecord } | undefined {
  const session = sessions.find((s) => s.current);
  if (!session) return undefined;
  const record = focusSeq !== undefined
    ? session.records.find((r) => r.seq === focusSeq)
    : [...session.records].reverse().find((r) => r.exitCode !== null && r.exitCode !== 0);
  return record && record.command !== null && record.cwd !== null ? { session, record } : undefined;
}

/**
 * The line for the session block, e.g. `--- omnish's index on command 12, same command line in
 * the same directory: 7 earlier runs, 5 of them failed; last success 2d ago (session 3f2a9c01, command 4)`.
 */
export function historyLine(seq: number, facts: CommandHistoryFacts, now: number): string {
  const head = `--- omnish's index on command ${seq}, same command line in the same directory:`;
  if (facts.runs === 0) return `${head} no earlier run`;
  const runs = `${facts.runs}${facts.capped ? '+' : ''} earlier run${facts.runs === 1 ? '' : 's'}, ${facts.failures} of them failed`;
  const last = facts.lastSuccess
    ? `last success ${ago(now - facts.lastSuccess.atMs)} (session ${facts.lastSuccess.session.slice(0, 8)}, command ${facts.lastSuccess.seq})`
    : 'it never succeeded here';
  return `${head} ${runs}; ${last}`;
}

/** The history line for a context, or undefined (no focus, no history, or the look-up knows nothing). */
export async function historyFor(sessions: readonly SessionInfo[], focusSeq: number | undefined, history: CommandHistory | undefined, now: number): Promise<{ session: SessionInfo; line: string } | undefined> {
  if (!history) return undefined;
  const focus = historyFocus(sessions, focusSeq);
  if (!focus) return undefined;
  const { session, record } = focus;
  const facts = await history.earlierRuns({
    command: record.command as string, cwd: record.cwd as string, beforeMs: finishedAt(session.meta, record), session: session.meta.id, seq: record.seq,
  });
  return facts ? { session, line: historyLine(record.seq, facts, now) } : undefined;
}
