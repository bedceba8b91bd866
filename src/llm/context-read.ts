/**
 * Reading what the LLM context needs from the store: the sessions asked for, their command
 * records, and the output of chosen commands rendered to text (src/store/render.ts: `\r`
 * progress bars and colours collapse to what the terminal finally showed). Huge outputs are not
 * read whole: the first READ_HEAD_BYTES and the last READ_TAIL_BYTES are rendered and the line
 * feeds in between counted, so a 2 GB build log costs one pass over the file and two small renders;
 * and no more than MAX_RENDER_LINES lines of a head or a tail are rendered.
 */
import { join } from 'node:path';
import { UsageError } from '../common/errors.js';
import {
  readCommandRecords, renderOutput, scanStream, STREAM_FILE, visitOutputRanges, type CommandRecord, type SessionStore, type StoredSession,
} from '../store/index.js';

/** Bytes read from the start of a long output, bytes. */
export const READ_HEAD_BYTES = 32 * 1024;
/** Bytes read from the end of a long output, bytes. More than the head: errors come last. */
export const READ_TAIL_BYTES = 128 * 1024;

/** Rendered output of one command (or stretch of a session), as lines. */
export interface RenderedOutput {
  /** Lines from its start; all of them when nothing was skipped. */
  head: string[];
  /** Lines from its end when a middle part was skipped (not read), else []. */
  tail: string[];
  /** Lines in the skipped middle: line feeds counted in the raw bytes, at least 1; 0 when nothing was skipped. */
  skippedLines: number;
}

/** A range [start, end) of the output byte stream (offsets in bytes) to read, or only to count line feeds in. */
interface Window {
  start: number;
  end: number;
  countOnly: boolean;
  parts: Buffer[];
  lineFeeds: number;
  /** Terminal size in cells when the window's first byte was written; set when it is read. */
  cols: number;
  rows: number;
}

function countLineFeeds(data: Uint8Array): number {
  let n = 0;
  for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) n++;
  return n;
}

/**
 * Reads all `windows` (sorted by start, not overlapping) in one pass over stream.bin, stopping after
 * the last one (store/output.ts visitOutputRanges): the bytes of a count-only window are counted
 * and dropped as they pass.
 * @throws StoreError when the stream file is missing or not a stream file
 */
function readWindows(session: StoredSession, windows: Window[]): void {
  const sizes = visitOutputRanges(join(session.dir, STREAM_FILE), windows, session, (i, piece) => {
    const w = windows[i];
    if (!w) return;
    if (w.countOnly) w.lineFeeds += countLineFeeds(piece);
    else w.parts.push(Buffer.from(piece)); // the piece is valid during the call only
  });
  windows.forEach((w, i) => Object.assign(w, sizes[i]));
}

function window(start: number, end: number, countOnly = false): Window {
  return { start, end, countOnly, parts: [], lineFeeds: 0, cols: 80, rows: 24 };
}

/**
 * Line feeds of one window that are rendered at most: the first ones of a head, the last ones of a
 * tail. A rendered row costs about 4 KB (xterm's buffer line at 80 columns, more when wider), so
 * the 128 KiB tail of a million short lines rendered whole took omnishd ~190 MB, and 128 KiB of
 * empty lines 570 MB; the context shows at most 200 lines of one output.
 */
export const MAX_RENDER_LINES = 1000;

async function render(bytes: Buffer, w: Window): Promise<string[]> {
  const text = await renderOutput(bytes, w.cols, { rows: w.rows });
  return text === '' ? [] : text.split('\n');
}

/** Offset just after the n-th line feed of `data` (n ≥ 1); data.length if it has fewer. */
function afterLineFeed(data: Buffer, n: number): number {
  let at = -1;
  for (let k = 0; k < n; k++) {
    at = data.indexOf(0x0a, at + 1);
    if (at === -1) return data.length;
  }
  return at + 1;
}

/**
 * One range as read: its head bytes, then (when the range was too long to read whole) the line
 * feeds of the unread middle and the tail bytes, rendered with at most MAX_RENDER_LINES line feeds
 * in the head and in the tail; what is cut off joins the middle's count.
 */
async function renderPlan(head: Window, middle: Window | undefined, tail: Window | undefined): Promise<RenderedOutput> {
  let headBytes = Buffer.concat(head.parts);
  let tailBytes = tail ? Buffer.concat(tail.parts) : undefined;
  let skipped = middle?.lineFeeds ?? 0;
  const headFeeds = countLineFeeds(headBytes);
  if (tailBytes === undefined && headFeeds > 2 * MAX_RENDER_LINES) {
    // Read whole but too many lines to render: its first and last lines, the rest counted.
    const cut = afterLineFeed(headBytes, MAX_RENDER_LINES);
    tailBytes = headBytes.subarray(cut);
    headBytes = headBytes.subarray(0, cut);
  } else if (tailBytes !== undefined && headFeeds > MAX_RENDER_LINES) {
    const cut = afterLineFeed(headBytes, MAX_RENDER_LINES);
    skipped += countLineFeeds(headBytes.subarray(cut));
    headBytes = headBytes.subarray(0, cut);
  }
  if (tailBytes === undefined) return { head: await render(headBytes, head), tail: [], skippedLines: 0 };
  const tailFeeds = countLineFeeds(tailBytes);
  if (tailFeeds > MAX_RENDER_LINES) {
    const cut = afterLineFeed(tailBytes, tailFeeds - MAX_RENDER_LINES);
    skipped += tailFeeds - MAX_RENDER_LINES;
    tailBytes = tailBytes.subarray(cut);
  }
  // The head's cut-off last line ends in the middle, where its line feed was counted. At least
  // 1: a cut inside a line leaves something out even when the middle holds no line feed.
  const endsLine = headBytes.length > 0 && headBytes[headBytes.length - 1] === 0x0a;
  return { head: await render(headBytes, head), tail: await render(tailBytes, tail ?? head), skippedLines: Math.max(1, skipped - (endsLine ? 0 : 1)) };
}

/** What to read of the range [start, end): all of it, or head + counted middle + tail. */
function plan(start: number, end: number): Window[] {
  if (end - start <= READ_HEAD_BYTES + READ_TAIL_BYTES) return [window(start, end)];
  return [window(start, start + READ_HEAD_BYTES), window(start + READ_HEAD_BYTES, end - READ_TAIL_BYTES, true), window(end - READ_TAIL_BYTES, end)];
}

/**
 * Reads and renders several ranges of a session's output byte stream in one pass.
 * @param ranges [start, end) offsets in bytes, in any order; they must not overlap
 * @returns one RenderedOutput per range, in the order given
 * @throws StoreError when stream.bin is missing or unreadable
 */
export async function renderRanges(session: StoredSession, ranges: readonly { start: number; end: number }[]): Promise<RenderedOutput[]> {
  const plans = ranges.map((r) => plan(r.start, Math.max(r.start, r.end)));
  readWindows(session, plans.flat().filter((w) => w.end > w.start).sort((a, b) => a.start - b.start));
  const out: RenderedOutput[] = [];
  for (const [head, middle, tail] of plans) {
    if (head) out.push(await renderPlan(head, middle, tail));
  }
  return out;
}

/** Total bytes in the session's output byte stream. @throws StoreError when stream.bin is unreadable */
export function outputBytes(session: StoredSession): number {
  return scanStream(join(session.dir, STREAM_FILE)).outputBytes;
}

/** Which sessions: the asker's own (else the newest), every active one (`-a`), or the N newest (`-s N`). */
export type SessionChoice = 'current' | 'all-active' | { recent: number };

/** A session chosen for the context, with its command records. */
export interface SessionInfo {
  meta: StoredSession;
  /** The asker's own session. */
  current: boolean;
  /** Oldest first; [] without shell integration. */
  records: CommandRecord[];
  /** Why the command records could not be read, if they could not. */
  problem?: string;
}

/**
 * The sessions `sessions` names, newest first, and the asker's own session if it is known.
 * @throws UsageError for an unknown current session id (with 'current') or a bad `recent` count
 */
function pickSessions(store: SessionStore, sessions: SessionChoice, currentSessionId: string | undefined): { picked: StoredSession[]; own?: StoredSession } {
  let own: StoredSession | undefined;
  try {
    own = currentSessionId === undefined ? undefined : store.resolve(currentSessionId);
  } catch (err) {
    // With -a or -s the asker's session only gets a label; not finding it is no reason to fail.
    if (sessions === 'current' || !(err instanceof UsageError)) throw err;
  }
  if (sessions === 'all-active') return { picked: store.list().filter((s) => s.active), own };
  if (sessions !== 'current') {
    if (!Number.isInteger(sessions.recent) || sessions.recent < 1) throw new UsageError(`the number of sessions must be a whole number of at least 1, not ${sessions.recent}`);
    return { picked: store.list().slice(0, sessions.recent), own };
  }
  return { picked: own ? [own] : store.list().slice(0, 1), own };
}

function loadSession(meta: StoredSession, own: StoredSession | undefined): SessionInfo {
  const current = meta.id === own?.id;
  try {
    return { meta, current, records: readCommandRecords(meta.dir) };
  } catch (err) {
    // One unreadable events.jsonl must not take the other sessions down: fall back to its output.
    return { meta, current, records: [], problem: (err as Error).message };
  }
}

/**
 * Loads the sessions `choice` names, oldest first, each with its command records (an unreadable
 * events.jsonl is noted in `problem`, not thrown: the other sessions still count).
 * @param currentSessionId the asker's session: id or unique prefix
 * @throws UsageError for an unknown current session id (with 'current') or a bad `recent` count
 * @throws StoreError when the sessions directory cannot be read
 */
export function loadSessions(store: SessionStore, choice: SessionChoice, currentSessionId?: string): SessionInfo[] {
  const { picked, own } = pickSessions(store, choice, currentSessionId);
  return picked.map((s) => loadSession(s, own)).sort((a, b) => Date.parse(a.meta.startedAt) - Date.parse(b.meta.startedAt));
}
