/**
 * The read-only tools over the record, shared by `omnish mcp` (docs/mcp.md) and omnishd's answers
 * (src/daemon/ask-tools.ts): each reads the store or the search index (never writes, never runs
 * anything) and returns a ToolText, redacted and capped (results.ts). Arguments arrive checked against the schemas of their caller (mcp-server.ts, ask-tools.ts); what a schema
 * cannot say (a bad --since, an unknown session) throws a UsageError, which the client gets as
 * the tool's error message.
 */
import { join } from 'node:path';
import { UsageError } from '../common/errors.js';
import { countMarkers, redact, type RedactOptions } from '../redact/redact.js';
import { runSearch, type SearchHit } from '../search/index.js';
import { readCommandRecords, readOutputRange, renderOutput, SessionStore, STREAM_FILE, type CommandRecord, type StoredSession } from '../store/index.js';
import { MAX_RENDER_BYTES } from './limits.js';
import { cappedJson, lineWindow, RESULT_CHARS, redactFields, type ToolText } from './results.js';
import { openIndexForSearch, searchQuery, type SearchOptions } from './search-query.js';
import { listSessions, pickSession } from './sessions.js';
import { redactSnippets } from './snippets.js';

/** What every tool reads with. */
export interface ToolContext {
  store: SessionStore;
  /** The user's `[redact]` patterns and allow-list (config.toml), read for each call. */
  redact: RedactOptions;
  /** The search index file (default: the data directory's). */
  indexPath?: string;
}

/** The filters of `omnish search`, as tool arguments. */
export interface FilterArgs {
  exit?: string | number;
  cwd?: string;
  here?: boolean;
  host?: string;
  session?: string;
  since?: string;
  until?: string;
  limit?: number;
}

export interface SearchArgs extends FilterArgs {
  query: string;
  in?: 'command' | 'output';
  rank?: boolean;
}

export interface OutputArgs {
  session?: string;
  seq: number;
  start_line?: number;
  end_line?: number;
}

/** Commands shown before a failure in last_failure. */
const CONTEXT_COMMANDS = 5;
/** Sessions listed by default. */
const DEFAULT_SESSIONS = 50;

const iso = (ms: number): string => new Date(ms).toISOString();

/** list_sessions: the recorded sessions, active first, then newest. */
export async function listSessionsTool(ctx: ToolContext, args: { limit?: number; active?: boolean }): Promise<ToolText> {
  let sessions = listSessions(ctx.store);
  if (args.active) sessions = sessions.filter((s) => s.active);
  sessions = sessions.slice(0, args.limit ?? DEFAULT_SESSIONS);
  const fields = sessions.flatMap((s) => [s.cwd, s.lastCwd, s.lastCommand]);
  const { texts } = await redactFields(fields, ctx.redact);
  const items = sessions.map((s, i) => ({ ...s, cwd: texts[3 * i]!, lastCwd: texts[3 * i + 1]!, lastCommand: texts[3 * i + 2] ?? null }));
  return cappedJson('sessions', items, 'ask for fewer with limit');
}

/** The tool arguments as `omnish search` options, so that both parse filters alike. */
function searchOptions(args: FilterArgs & { in?: 'command' | 'output'; rank?: boolean }): SearchOptions {
  return {
    exit: args.exit === undefined ? undefined : String(args.exit),
    cwd: args.cwd,
    here: args.here,
    host: args.host,
    session: args.session,
    since: args.since,
    until: args.until,
    in: args.in,
    limit: args.limit === undefined ? undefined : String(args.limit),
    rank: args.rank,
  };
}

/** A hit as a tool returns it (match offsets left out: redaction moves text around). */
function hitItem(h: SearchHit, withSnippet: boolean): Record<string, unknown> {
  return {
    ref: `${h.session}:${h.seq}`,
    session: h.session,
    seq: h.seq,
    host: h.host,
    cwd: h.cwd,
    command: h.command,
    exitCode: h.exitCode,
    startedAt: iso(h.startedAtMs),
    endedAt: iso(h.endedAtMs),
    durationMs: h.endedAtMs - h.startedAtMs,
    outputBytes: h.outputBytes,
    ...(h.altScreen ? { fullScreen: true } : {}),
    ...(withSnippet ? { snippet: h.snippet } : {}),
  };
}

/** Runs a query on the index and returns its hits, redacted. */
async function searchTool(ctx: ToolContext, words: string[], args: FilterArgs & { in?: 'command' | 'output'; rank?: boolean }, withSnippet: boolean): Promise<ToolText> {
  const query = searchQuery(words, searchOptions(args));
  const index = await openIndexForSearch(ctx.indexPath);
  let hits: SearchHit[];
  let state: string | undefined;
  try {
    state = index.getMeta('state') ?? undefined;
    hits = runSearch(index, query).hits;
  } finally {
    index.close();
  }
  const { texts } = await redactFields(hits.flatMap((h) => [h.command, h.cwd]), ctx.redact);
  const snippets = withSnippet ? await redactSnippets(ctx.store, hits, ctx.redact) : [];
  const items = hits.map((h, i) => hitItem({ ...h, command: texts[2 * i]!, cwd: texts[2 * i + 1]!, snippet: snippets[i] ?? '' }, withSnippet));
  const extra = state === 'rebuilding' || state === 'catching-up' ? { note: 'omnishd is updating the search index: results may be incomplete' } : {};
  return cappedJson('commands', items, 'narrow the filters or ask for fewer with limit; get_command_output shows one command\'s output', extra);
}

/** list_commands: the commands the filters let through, newest first (the search index, no query). */
export function listCommandsTool(ctx: ToolContext, args: FilterArgs): Promise<ToolText> {
  return searchTool(ctx, [], args, false);
}

/** search: commands whose command line or output matches an FTS5 query, with a snippet of the output. */
export function searchCommandsTool(ctx: ToolContext, args: SearchArgs): Promise<ToolText> {
  if (args.query.trim() === '') throw new UsageError('query is empty: give words to look for (list_commands lists commands without one)');
  return searchTool(ctx, [args.query], args, true);
}

function findRecord(session: StoredSession, records: CommandRecord[], seq: number): CommandRecord {
  const record = seq > 0 ? records.find((r) => r.seq === seq) : records[records.length + seq];
  if (record) return record;
  const first = records[0];
  const last = records[records.length - 1];
  const has = first && last ? `its commands are ${first.seq}-${last.seq}` : 'it has no recorded commands';
  throw new UsageError(`session ${session.id} has no command ${seq} (${has})`);
}

/** The rendered text of a command's output (as omnish show prints it), and notes on what it lacks. */
async function renderedOutput(session: StoredSession, record: CommandRecord): Promise<{ text: string; notes: string[] }> {
  const notes: string[] = [];
  if (record.outputTrimmed) notes.push(`${record.outputTrimmed} bytes of this output were trimmed by retention ([store] max_session_mb); what is left follows`);
  const size = record.outputEnd - record.outputStart;
  if (size > MAX_RENDER_BYTES) notes.push(`the command wrote ${size} bytes: the text of the last ${MAX_RENDER_BYTES} follows`);
  if (record.altScreen) notes.push('the command ran a full-screen program: its screen is not part of the text');
  if (size === 0) return { text: '', notes };
  const range = readOutputRange(join(session.dir, STREAM_FILE), Math.max(record.outputStart, record.outputEnd - MAX_RENDER_BYTES), record.outputEnd, session);
  return { text: await renderOutput(range.data, range.cols, { rows: range.rows }), notes };
}

/** A command record's times, absolute. */
function times(session: StoredSession, r: CommandRecord): { startedAt: string; endedAt: string } {
  const base = Date.parse(session.startedAt);
  return { startedAt: iso(base + r.startedAtUs / 1000), endedAt: iso(base + r.endedAtUs / 1000) };
}

/**
 * One command with its output as text: a header (session, seq, exit, cwd, times, command line),
 * the lines asked for, and notes; `before` goes between header and output. Everything redacted;
 * the output whole, before it is cut to lines, so a key block is seen whole.
 */
async function commandText(ctx: ToolContext, session: StoredSession, record: CommandRecord, window: { start?: number; end?: number }, before = ''): Promise<ToolText> {
  const { texts: [command, cwd] } = await redactFields([record.command, record.cwd], ctx.redact);
  const t = times(session, record);
  const head = [
    `session: ${session.id}  seq: ${record.seq}  exit: ${record.exitCode ?? 'unknown'}  host: ${session.hostname}`,
    `cwd: ${cwd ?? 'unknown'}`,
    `started: ${t.startedAt}  ended: ${t.endedAt}  duration: ${Math.round((record.endedAtUs - record.startedAtUs) / 1000)} ms`,
    `command: ${command ?? 'unknown'}`,
  ].join('\n');
  const rendered = await renderedOutput(session, record);
  const output = await redact(rendered.text, ctx.redact);
  const notes = rendered.notes.map((n) => `[note: ${n}]`);
  const budget = Math.max(1000, RESULT_CHARS - head.length - before.length - 600);
  let win;
  try {
    win = lineWindow(output.text, budget, window.start, window.end);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
  let body: string;
  if (win.total === 0) body = '--- no output ---';
  else if (win.first === 0) body = `--- the output has ${win.total} lines: none in the range asked for ---`;
  else body = `--- output, lines ${win.first}-${win.last} of ${win.total} ---\n${win.text}`;
  if (win.truncated) {
    notes.push(`[truncated: lines ${win.first}-${win.last} of ${win.total} shown (results are capped at ${RESULT_CHARS} characters); get_command_output with start_line and end_line shows the others]`);
  }
  const text = [head, before, body, ...notes].filter((p) => p !== '').join('\n');
  return { text, redactions: countMarkers(text), truncated: win.truncated };
}

/** get_command_output: one command's output as rendered text (omnish show), lines start_line to end_line. */
export async function getOutputTool(ctx: ToolContext, args: OutputArgs): Promise<ToolText> {
  if (args.seq === 0) throw new UsageError('seq 0: commands are numbered from 1 (negative: from the last, -1 is the last)');
  const session = pickSession(ctx.store, args.session === undefined ? undefined : args.session.toLowerCase());
  const record = findRecord(session, readCommandRecords(session.dir), args.seq);
  return commandText(ctx, session, record, { start: args.start_line, end: args.end_line });
}

/** The session's records, or none when its events.jsonl cannot be read (one damaged session does not hide the others). */
function recordsOf(session: StoredSession): CommandRecord[] {
  try {
    return readCommandRecords(session.dir);
  } catch {
    return [];
  }
}

/**
 * last_failure: the command that failed last (exit status other than 0), in every session or in
 * `session`, with the commands before it and its output (the tail when it is long).
 */
export async function lastFailureTool(ctx: ToolContext, args: { session?: string }): Promise<ToolText> {
  const sessions = args.session === undefined ? ctx.store.list() : [ctx.store.resolve(args.session.toLowerCase())];
  let best: { session: StoredSession; records: CommandRecord[]; record: CommandRecord; endMs: number } | undefined;
  for (const session of sessions) {
    const base = Date.parse(session.startedAt);
    // A session that ended before the best failure so far cannot hold a later one.
    if (best && session.endedAt !== null && Date.parse(session.endedAt) < best.endMs) continue;
    const records = recordsOf(session);
    for (let i = records.length - 1; i >= 0; i--) {
      const r = records[i]!;
      if (r.exitCode === null || r.exitCode === 0) continue;
      const endMs = base + r.endedAtUs / 1000;
      if (!best || endMs > best.endMs) best = { session, records, record: r, endMs };
      break; // records are in order: the last failure of this session is the one
    }
  }
  if (!best) return { text: args.session ? `no failed command recorded in session ${sessions[0]!.id}` : 'no failed command recorded', redactions: [], truncated: false };
  const at = best.records.indexOf(best.record);
  const earlier = best.records.slice(Math.max(0, at - CONTEXT_COMMANDS), at);
  const { texts } = await redactFields(earlier.map((r) => r.command), ctx.redact);
  const lines = earlier.map((r, i) => `  ${r.seq}  exit ${r.exitCode ?? '-'}  ${(texts[i] ?? '?').split('\n')[0]}`);
  const after = best.records.length - 1 - at;
  const before = [
    earlier.length > 0 ? `commands before it in this session:\n${lines.join('\n')}` : 'it was the first command of its session',
    after > 0 ? `${after} command(s) ran after it in this session (list_commands with session ${best.session.id} lists them)` : '',
  ].filter((l) => l !== '').join('\n');
  return commandText(ctx, best.session, best.record, {}, before);
}
