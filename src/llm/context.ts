/**
 * The context builder: what is sent to an LLM about the user's terminals, built from the session
 * store. Which sessions, which commands, how outputs are shortened and what is redacted is
 * described in docs/context.md; the selection rules live in context-select.ts, the wording in
 * context-format.ts and prompt.ts.
 */
import type { CommandRecord, SessionStore } from '../store/index.js';
import {
  ALT_SCREEN_NOTE, EARLIER_OUTPUT_NOTE, LIVE_NOTE, NO_INTEGRATION_NOTE, NO_OUTPUT_NOTE, commandHeader, commandsNotShown, finishedAt,
  sessionHeader, utc,
} from './context-format.js';
import {
  READ_TAIL_BYTES, loadSessions, outputBytes, renderRanges, type RenderedOutput, type SessionChoice, type SessionInfo,
} from './context-read.js';
import { CHARS_PER_TOKEN, approxTokens, byPriority, clip, fitBudget, type Lines, type Ranked } from './context-select.js';
import { historyFor, type CommandHistory } from './context-history.js';
import { SESSION_CLOSE, sessionData, systemPrompt, type Purpose } from './prompt.js';
import { countMarkers, redact, type RedactOptions, type Redaction } from '../redact/redact.js';

export type { SessionChoice } from './context-read.js';
export type { CommandHistory, CommandHistoryFacts } from './context-history.js';

export interface ContextOptions {
  store: SessionStore;
  sessions: SessionChoice;
  /** Id (or unique prefix) of the session asking; `'current'` means the newest session without it. */
  currentSessionId?: string;
  /** The user's question, sent after the sessions; omitted from the text when undefined. */
  question?: string;
  /** Budget for system prompt + user message, approximate tokens (characters / CHARS_PER_TOKEN). */
  maxTokens: number;
  /** Clock for "5m ago" (default: now). */
  now?: Date;
  /** Selects the system prompt (default 'ask'). */
  purpose?: Purpose;
  /**
   * Number (seq) of the command in the current session the question is about (an auto-explanation's
   * failed command): it gets budget before anything else, so the question can name it by number.
   */
  focusSeq?: number;
  /** The user's patterns and allow-list for redaction (`[redact]` in config.toml); none by default. */
  redact?: RedactOptions;
  /** Earlier runs of the focused command, from the search index (context-history.ts); none: not said. */
  history?: CommandHistory;
}

export interface ContextStats {
  /** Sessions in the context. */
  sessions: number;
  /** Command entries in the context (output tails not counted). */
  commands: number;
  /** Characters of system + user. */
  chars: number;
  /** chars / CHARS_PER_TOKEN, rounded up. */
  approxTokens: number;
  /** Secrets replaced, per kind, in what is returned. */
  redactions: Redaction[];
}

export interface BuiltContext {
  system: string;
  user: string;
  stats: ContextStats;
}

/** Output lines of a command kept in full form (head, tail) and short form; budget permitting. */
const FULL = [40, 80] as const;
const SHORT = [10, 30] as const;
/** Last lines of a session without command records, longest form first. */
const TAIL_FORMS = [200, 60, 20];
/** Last lines of what an active session shows after its last command. */
const LIVE_FORMS = [60, 20];
/** Candidates looked at, at most; rendering each costs a few ms. */
const MAX_CANDIDATES = 400;
/** Candidates read and rendered together (one pass over a session's stream file each). */
const BATCH = 24;
/** Characters reserved per chosen entry for the blank line and a possible "[… N commands not shown …]". */
const PER_ENTRY = 40;

interface Entry extends Ranked {
  session: SessionInfo;
  /** A command; undefined for an output tail ('tail': no records; 'live': after the last command). */
  record?: CommandRecord;
  kind: 'command' | 'tail' | 'live';
  range: { start: number; end: number };
  /** Tails only: the range starts after `from` (only the last READ_TAIL_BYTES were read). */
  cut?: boolean;
  /** Rendered and redacted: the header lines and the output lines. */
  ready?: { header: string[]; out: Lines };
}

/** Every entry that could go into the context, unordered. */
function candidates(sessions: SessionInfo[], now: number, focusSeq?: number): Entry[] {
  const out: Entry[] = [];
  for (const session of sessions) {
    const { meta, records } = session;
    const newest = records[records.length - 1];
    for (const record of records) {
      const failed = record.exitCode !== null && record.exitCode !== 0;
      const focus = session.current && record.seq === focusSeq;
      out.push({ session, record, kind: 'command', range: { start: record.outputStart, end: record.outputEnd }, time: finishedAt(meta, record), failed, latest: record === newest, focus });
    }
    // What an active session shows after its last command: a running command, or a prompt (not
    // worth sending for the asker's own session, which is at a prompt by definition).
    const live = meta.active && !session.current;
    if (newest !== undefined && !live) continue;
    let total = 0;
    try {
      total = outputBytes(meta);
    } catch {
      continue; // no readable stream: nothing to show beyond the records
    }
    const from = newest ? newest.outputEnd : 0;
    if (total > from) {
      const range = { start: Math.max(from, total - READ_TAIL_BYTES), end: total };
      const time = meta.endedAt ? Date.parse(meta.endedAt) : now;
      out.push({ session, kind: newest ? 'live' : 'tail', range, cut: range.start > from, time, failed: false, latest: true });
    }
  }
  return out;
}

/** Renders and redacts `entries` (those not ready yet), one pass over each session's stream file. */
async function prepare(entries: Entry[], now: number, options: RedactOptions): Promise<void> {
  const bySession = new Map<SessionInfo, Entry[]>();
  for (const e of entries) {
    if (!e.ready) bySession.set(e.session, [...(bySession.get(e.session) ?? []), e]);
  }
  for (const [session, list] of bySession) {
    const toRead = list.filter((e) => !e.record?.altScreen);
    let rendered: RenderedOutput[] = [];
    let unreadable: RenderedOutput | undefined;
    try {
      rendered = await renderRanges(session.meta, toRead.map((e) => e.range));
    } catch (err) {
      // A damaged stream.bin costs this session its output, not the whole request.
      unreadable = { head: [`(output unreadable: ${(err as Error).message})`], tail: [], skippedLines: 0 };
    }
    for (const e of list) {
      const none = { head: [], tail: [], skippedLines: 0 };
      const out = e.record?.altScreen ? none : unreadable ?? rendered[toRead.indexOf(e)] ?? none;
      // Redacted before clipping, so that a key block is seen whole; head and tail apart, because
      // clip() needs them apart (they are not adjacent when the middle was not read).
      const lines = async (text: string) => {
        const r = await redact(sessionData(text), options);
        return r.text === '' ? [] : r.text.split('\n');
      };
      const header = e.record ? commandHeader(session.meta, e.record, now) : [e.kind === 'tail' ? NO_INTEGRATION_NOTE : LIVE_NOTE];
      e.ready = {
        header: await lines(header.join('\n')),
        out: { head: await lines(out.head.join('\n')), tail: await lines(out.tail.join('\n')), skippedLines: out.skippedLines },
      };
    }
  }
}

/** The ways to show a ready entry, longest first ([] when it is not worth showing at all). */
function variants(e: Entry): string[] {
  const ready = e.ready;
  if (!ready) return [];
  const join = (body: string[]) => [...ready.header, ...body].join('\n');
  const { out } = ready;
  if (e.kind !== 'command') {
    // A live tail with at most a prompt in it says nothing.
    if (e.kind === 'live' && out.head.filter((l) => l.trim() !== '').length + out.tail.length < 2) return [];
    // Only the end of the session was read (at most READ_TAIL_BYTES: `head` holds all of it, or
    // `tail` its last MAX_RENDER_LINES lines): how many lines came before is not known.
    const last = (n: number) => (e.cut ? [EARLIER_OUTPUT_NOTE, ...(out.tail.length > 0 ? out.tail : out.head).slice(-n)] : clip(out, 0, n));
    return (e.kind === 'tail' ? TAIL_FORMS : LIVE_FORMS).map((n) => join(last(n)));
  }
  if (e.record?.altScreen) return [join([ALT_SCREEN_NOTE])];
  if (out.head.length + out.tail.length === 0) return [join([NO_OUTPUT_NOTE])];
  return [join(clip(out, ...FULL)), join(clip(out, ...SHORT)), join(clip(out, 0, 0))];
}

/** A session's block: its header tag, the chosen entries in order with gaps marked, the closing tag. */
function sessionBlock(session: SessionInfo, chosen: Map<Entry, string>, extra?: string): string {
  const parts = [sessionHeader(session.meta, session.current, session.records.length)];
  if (session.problem !== undefined) parts.push(`[command records unreadable: ${sessionData(session.problem)}]`);
  const mine = [...chosen].filter(([e]) => e.session === session);
  const commands = mine.filter(([e]) => e.record).sort(([a], [b]) => (a.record?.seq ?? 0) - (b.record?.seq ?? 0));
  let next = 0; // index in records after the last entry shown
  for (const [e, text] of commands) {
    const at = session.records.indexOf(e.record as CommandRecord);
    if (at > next) parts.push(commandsNotShown(at - next, next === 0 ? 'earlier' : ''));
    parts.push(text);
    next = at + 1;
  }
  if (session.records.length > next) parts.push(commandsNotShown(session.records.length - next, next === 0 ? '' : 'later'));
  for (const [e, text] of mine) if (!e.record) parts.push(text);
  if (extra !== undefined) parts.push(extra);
  parts.push(SESSION_CLOSE);
  return parts.join('\n\n');
}

/**
 * Builds the system prompt and the user message for an LLM request from the store: the chosen
 * sessions, each in a `<terminal-session>` block, with as many commands as fit in `maxTokens`
 * (newest and failing first, shown in chronological order), everything passed through redact().
 * @throws UsageError for an unknown `currentSessionId` or a `recent` count below 1
 * @throws RangeError when maxTokens is not a positive number
 * @throws StoreError when the sessions directory cannot be read
 */
export async function buildContext(opts: ContextOptions): Promise<BuiltContext> {
  if (!(opts.maxTokens > 0)) throw new RangeError(`maxTokens must be positive, got ${opts.maxTokens}`);
  const now = (opts.now ?? new Date()).getTime();
  const system = systemPrompt(opts.purpose);
  const sessions = loadSessions(opts.store, opts.sessions, opts.currentSessionId);
  const intro = sessions.length === 0
    ? 'No terminal sessions are recorded.'
    : `Terminal context recorded by omnish: ${sessions.length} session${sessions.length === 1 ? '' : 's'}, oldest first. Current time: ${utc(now)}.`;
  const question = opts.question === undefined ? '' : `Question: ${opts.question}`;
  // Fixed parts are always sent; entries share what is left.
  const frames = sessions.reduce((n, s) => n + sessionHeader(s.meta, s.current, s.records.length).length + SESSION_CLOSE.length + 2 * PER_ENTRY, 0);
  const history = await historyFor(sessions, opts.focusSeq, opts.history, now);
  const fixed = system.length + intro.length + question.length + 4 + frames + (history ? history.line.length + 2 : 0);
  const ordered = byPriority(candidates(sessions, now, opts.focusSeq)).slice(0, MAX_CANDIDATES);
  const fit = await fitBudget(ordered.length, async (i) => {
    if (!ordered[i]?.ready) await prepare(ordered.slice(i, i + BATCH), now, opts.redact ?? {});
    const e = ordered[i];
    return e ? variants(e) : [];
  }, opts.maxTokens * CHARS_PER_TOKEN - fixed, 80, PER_ENTRY);
  const chosen = new Map([...fit.chosen].map(([i, text]) => [ordered[i] as Entry, text]));
  const user = await redact([intro, ...sessions.map((s) => sessionBlock(s, chosen, history?.session === s ? history.line : undefined)), question].filter((p) => p !== '').join('\n\n'), opts.redact);
  const chars = system.length + user.text.length;
  return {
    system,
    user: user.text,
    stats: {
      sessions: sessions.length,
      commands: [...chosen.keys()].filter((e) => e.record).length,
      chars,
      approxTokens: approxTokens(chars),
      // Entries were redacted before they were clipped: what was sent is what the markers say.
      redactions: countMarkers(user.text),
    },
  };
}
