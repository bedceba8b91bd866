/**
 * A follow-up in a thread (`ask -c`, `ask --thread ID`): which earlier turns are sent again, and the
 * new user message, which says what happened in the thread's session since its last answer (the
 * new commands, the newest one with the end of its output) before the question. Everything from
 * the terminal sits in a `<terminal-session>` block and passes through redact(), as in the first
 * turn's context (docs/context.md). The earlier turns are sent as they were stored: already redacted.
 */
import { readCommandRecords, type SessionStore, type StoredSession } from '../store/index.js';
import { countMarkers, redact, type RedactOptions, type Redaction } from '../redact/redact.js';
import { commandHeader, commandsNotShown, finishedAt, NO_OUTPUT_NOTE, sessionHeader, utc } from './context-format.js';
import { renderRanges } from './context-read.js';
import { clip } from './context-select.js';
import { SESSION_CLOSE, sessionData } from './prompt.js';

/** A stored turn, as far as sending it again goes. */
export interface EarlierTurn {
  role: 'user' | 'assistant';
  content: string;
}

/** The earlier turns chosen for a follow-up. */
export interface History {
  /** Oldest first, alternating, starting with the first user turn. */
  messages: EarlierTurn[];
  /** Exchanges (question and answer) left out between the first one and those sent. */
  omitted: number;
}

/** New commands listed in a follow-up, at most: the newest ones. */
export const MAX_NEW_COMMANDS = 20;
/** Last lines of the newest new command's output sent with a follow-up. */
export const NEW_OUTPUT_LINES = 20;

/**
 * The earlier turns to send: the first exchange always (its user turn holds the terminal context
 * the conversation is about), then the newest later exchanges whose characters fit in
 * `budgetChars`, in order. A trailing user turn without an answer (a follow-up that failed) is
 * dropped, so the messages alternate and end with an answer.
 * @param turns - the thread's turns, oldest first
 * @param budgetChars - characters allowed for the exchanges after the first one
 */
export function pickHistory(turns: readonly EarlierTurn[], budgetChars: number): History {
  const pairs: EarlierTurn[][] = [];
  for (let i = 0; i + 1 < turns.length; i += 2) {
    const [q, a] = [turns[i] as EarlierTurn, turns[i + 1] as EarlierTurn];
    if (q.role === 'user' && a.role === 'assistant') pairs.push([q, a]);
  }
  const [first, ...later] = pairs;
  if (!first) return { messages: [], omitted: 0 };
  const kept: EarlierTurn[][] = [];
  let left = budgetChars;
  for (let i = later.length - 1; i >= 0; i--) {
    const pair = later[i] as EarlierTurn[];
    const size = pair.reduce((n, t) => n + t.content.length, 0);
    if (size > left) break;
    left -= size;
    kept.unshift(pair);
  }
  return { messages: [...first, ...kept.flat()], omitted: later.length - kept.length };
}

/** What a follow-up needs to say what happened since. */
export interface FollowUpOptions {
  store: SessionStore;
  /** The thread's session; null (or a session that is gone) sends the question alone. */
  session: string | null;
  /** The thread's last update, ms since the epoch: commands finished after it are new. */
  sinceMs: number;
  /** The question, as typed. */
  question: string;
  /** Exchanges left out of the history (History.omitted), said in one line. */
  omitted?: number;
  redact?: RedactOptions;
  /** The clock, ms since the epoch (default Date.now). */
  now?: number;
}

/** The new user message of a follow-up. */
export interface FollowUpMessage {
  /** What is sent as the last user message, redacted. */
  user: string;
  /** New commands listed. */
  commands: number;
  /** Secrets replaced in `user`, per kind. */
  redactions: Redaction[];
}

/** The session's block of new commands, or '' when nothing ran since `sinceMs`. */
async function sinceBlock(meta: StoredSession, sinceMs: number, now: number, options: RedactOptions): Promise<{ text: string; commands: number }> {
  const records = readCommandRecords(meta.dir).filter((r) => finishedAt(meta, r) > sinceMs);
  if (records.length === 0) return { text: '', commands: 0 };
  const shown = records.slice(-MAX_NEW_COMMANDS);
  const newest = shown[shown.length - 1];
  const parts = [sessionHeader(meta, true, records.length)];
  if (records.length > shown.length) parts.push(commandsNotShown(records.length - shown.length, 'earlier'));
  for (const r of shown) {
    const lines = commandHeader(meta, r, now);
    if (r === newest && !r.altScreen) {
      const [out] = await renderRanges(meta, [{ start: r.outputStart, end: r.outputEnd }]);
      const body = out ? clip(out, 0, NEW_OUTPUT_LINES) : [];
      lines.push(...(body.length > 0 ? body : [NO_OUTPUT_NOTE]));
    }
    parts.push(sessionData(lines.join('\n')));
  }
  parts.push(SESSION_CLOSE);
  const text = (await redact(parts.join('\n\n'), options)).text;
  return { text, commands: records.length };
}

/**
 * The user message of a follow-up: a note of omitted exchanges, the new commands of the thread's
 * session since its last answer (none: a line saying so), then `Question: …`; all redacted.
 * A session whose records cannot be read sends the question without them.
 */
export async function followUpMessage(opts: FollowUpOptions): Promise<FollowUpMessage> {
  const now = opts.now ?? Date.now();
  const parts: string[] = [];
  if (opts.omitted) parts.push(`[… ${opts.omitted} earlier exchange${opts.omitted === 1 ? '' : 's'} of this conversation not shown …]`);
  let commands = 0;
  if (opts.session !== null) {
    try {
      const meta = opts.store.resolve(opts.session);
      const since = await sinceBlock(meta, opts.sinceMs, now, opts.redact ?? {});
      commands = since.commands;
      parts.push(since.text === ''
        ? `No commands ran in the session since the last answer. Current time: ${utc(now)}.`
        : `Since the last answer, ${commands} command${commands === 1 ? '' : 's'} ran in the session (oldest first; only the newest with its output). Current time: ${utc(now)}.\n\n${since.text}`);
    } catch {
      // The session is gone or unreadable: the conversation goes on without what happened since.
    }
  }
  parts.push(`Question: ${opts.question}`);
  const user = (await redact(parts.join('\n\n'), opts.redact)).text;
  return { user, commands, redactions: countMarkers(user) };
}
