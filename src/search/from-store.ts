/**
 * Turning stored commands into index rows: from a command record and its output's head and tail
 * (the daemon, as each command ends), or from a session directory (rebuild and catch-up, which read
 * the command records from events.jsonl and the output from stream.bin in one pass per session).
 */
import { join } from 'node:path';
import { readCommandRecords, type CommandRecord } from '../store/records.js';
import { STREAM_FILE, type StoredSession } from '../store/store.js';
import type { SessionMeta } from '../store/meta.js';
import { visitOutputRanges, type OutputSpan } from '../store/output.js';
import type { IndexedCommand } from './db.js';
import { indexedRanges, indexedText } from './text.js';

/** What a row needs of its session. */
export type SessionInfo = Pick<SessionMeta, 'id' | 'hostname' | 'shell' | 'startedAt'>;

/**
 * The index row of `record` of `session`.
 * @param head the output's first bytes (its [outputStart, min(outputEnd, outputStart + INDEX_HEAD_BYTES)))
 * @param tail the output's last bytes after the head (at most INDEX_TAIL_BYTES)
 */
export function indexedCommand(session: SessionInfo, record: CommandRecord, head: Uint8Array, tail: Uint8Array): IndexedCommand {
  const startMs = Date.parse(session.startedAt);
  const total = record.outputEnd - record.outputStart;
  // A full-screen program's output is its drawing (vim, less, htop): noise as text. Its command line is still indexed.
  const { text, omittedBytes } = record.altScreen ? { text: '', omittedBytes: total } : indexedText(head, tail, total);
  return {
    session: session.id,
    seq: record.seq,
    host: session.hostname,
    shell: session.shell,
    cwd: record.cwd,
    command: record.command,
    exitCode: record.exitCode,
    startedAtMs: startMs + record.startedAtUs / 1000,
    endedAtMs: startMs + record.endedAtUs / 1000,
    outputBytes: total,
    // Output retention cut out of the stream is not indexed either.
    omittedBytes: omittedBytes + (record.outputTrimmed ?? 0),
    altScreen: record.altScreen,
    text,
  };
}

/**
 * The index rows of the commands of `session` whose seq is above `afterSeq` (or, given a set,
 * whose seq is in it), read from its files in one pass over the stream.
 * @throws StoreError when events.jsonl or stream.bin cannot be read
 */
export function sessionCommands(session: StoredSession, which: number | ReadonlySet<number> = 0): IndexedCommand[] {
  const wanted = typeof which === 'number' ? (seq: number) => seq > which : (seq: number) => which.has(seq);
  const records = readCommandRecords(session.dir).filter((r) => wanted(r.seq));
  if (records.length === 0) return [];
  const spans: OutputSpan[] = [];
  let last = 0;
  for (const r of records) {
    const { head, tail } = indexedRanges(r.outputStart, r.outputEnd);
    // Ranges must be sorted and disjoint; a record out of order (never written so) reads nothing.
    const h = { start: Math.max(head[0], last), end: Math.max(head[1], last) };
    const t = { start: Math.max(tail[0], h.end), end: Math.max(tail[1], h.end) };
    spans.push(h, t);
    last = t.end;
  }
  const pieces: Buffer[][] = spans.map(() => []);
  visitOutputRanges(join(session.dir, STREAM_FILE), spans, { cols: session.cols, rows: session.rows }, (i, piece) => pieces[i]?.push(piece));
  return records.map((r, i) => indexedCommand(session, r, Buffer.concat(pieces[2 * i] ?? []), Buffer.concat(pieces[2 * i + 1] ?? [])));
}
