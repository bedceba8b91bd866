/**
 * Encoders behind `omnish export`: they turn a session's stream records into asciicast v2/v3
 * (https://docs.asciinema.org/manual/asciicast/v2/, .../v3/) or a util-linux typescript with its
 * classic timing file (what `scriptreplay -t FILE.timing -s FILE` plays). Pure: records in, text
 * and bytes out; writing files is export.ts's job. Fidelity limits are listed in docs/export.md.
 */
import { TextDecoder } from 'node:util';
import { INPUT_HIDDEN_REASON } from '../protocol/messages.js';
import { RecordKind, type SessionMeta, type StreamRecord } from '../store/index.js';

/** The formats `omnish export --format` accepts. */
export const EXPORT_FORMATS = ['asciicast-v2', 'asciicast-v3', 'script'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What the asciicast encoder needs besides the records. */
export interface AsciicastOptions {
  /** 2: event times are seconds since the start; 3: seconds since the previous event. */
  version: 2 | 3;
  /** Header `title`; omitted when undefined. */
  title?: string;
  /** Include typed input as "i" events (off by default: keystrokes stay private). */
  input: boolean;
}

/** Formats `us` (integer µs) as seconds with exactly 6 decimals, without floating-point noise. */
export function seconds(us: number): string {
  const whole = Math.max(0, Math.round(us));
  return `${Math.floor(whole / 1e6)}.${String(whole % 1e6).padStart(6, '0')}`;
}

/** The exit status a shell would report: the code, or 128 + signal for a killed shell; null if neither. */
export function exitStatus(exitCode: number | null, signal: number | null): number | null {
  if (exitCode !== null) return exitCode;
  return signal !== null ? 128 + signal : null;
}

/**
 * Event times never go backwards in an export, even if a stream's clock did (the store allows it,
 * players do not). Returns the time to use for each record, µs since session start.
 */
function monotonic(): (tUs: number) => number {
  let last = 0;
  return (tUs) => (last = Math.max(last, tUs));
}

/**
 * A UTF-8 decoder for one byte stream (output or input) split into records. `stream: true` keeps
 * a multi-byte sequence cut between two records until its end arrives, so it is decoded whole;
 * invalid bytes become U+FFFD. `ignoreBOM` keeps a leading EF BB BF as U+FEFF instead of eating it.
 */
function utf8(): TextDecoder {
  return new TextDecoder('utf-8', { ignoreBOM: true });
}

/** The asciicast header line for `meta`, with its trailing newline. */
export function asciicastHeader(meta: SessionMeta, opts: AsciicastOptions): string {
  const timestamp = Math.floor(Date.parse(meta.startedAt) / 1000);
  const title = opts.title === undefined ? {} : { title: opts.title };
  const header =
    opts.version === 2
      ? { version: 2, width: meta.cols, height: meta.rows, timestamp, ...title,
          env: { SHELL: meta.shell, ...(meta.term ? { TERM: meta.term } : {}) } }
      : { version: 3, term: { cols: meta.cols, rows: meta.rows, ...(meta.term ? { type: meta.term } : {}) }, timestamp, ...title,
          env: { SHELL: meta.shell } };
  return `${JSON.stringify(header)}\n`;
}

/**
 * Encodes a session as asciicast v2 or v3: the header line, then one JSON event line per record
 * (each string yielded ends in a newline). Output → "o", input → "i" (if enabled), resize → "r"
 * "COLSxROWS", gap → marker "m" `gap: N bytes lost (reason)`, exit → "x" with the status (v3) or
 * marker "m" `exit N` (v2 has no exit event). The gap that marks keys left out at echo off
 * (INPUT_HIDDEN_REASON) is part of the input: a marker "m" `input hidden (echo off)` with input
 * only. Times: µs from the store, written as seconds.
 */
export function* asciicast(meta: SessionMeta, records: Iterable<StreamRecord>, opts: AsciicastOptions): Generator<string> {
  yield asciicastHeader(meta, opts);
  const clock = monotonic();
  let previous = 0; // µs of the previous event, for v3's intervals
  const event = (tUs: number, code: string, data: string): string => {
    const t = clock(tUs);
    const time = opts.version === 2 ? t : t - previous;
    previous = t;
    return `[${seconds(time)}, ${JSON.stringify(code)}, ${JSON.stringify(data)}]\n`;
  };
  const out = utf8();
  const input = utf8();
  // Bytes held back as the start of a multi-byte sequence that never completed: shown as U+FFFD
  // where the stream ends or breaks (gap, exit), at that point in time.
  function* flush(tUs: number): Generator<string> {
    const o = out.decode();
    if (o) yield event(tUs, 'o', o);
    const i = input.decode();
    if (i && opts.input) yield event(tUs, 'i', i);
  }
  let lastTUs = 0;
  for (const rec of records) {
    lastTUs = rec.tUs;
    switch (rec.kind) {
      case RecordKind.Output: {
        const text = out.decode(rec.data, { stream: true });
        if (text) yield event(rec.tUs, 'o', text);
        break;
      }
      case RecordKind.Input: {
        const text = input.decode(rec.data, { stream: true });
        if (text && opts.input) yield event(rec.tUs, 'i', text);
        break;
      }
      case RecordKind.Resize:
        yield event(rec.tUs, 'r', `${rec.cols}x${rec.rows}`);
        break;
      case RecordKind.Gap:
        if (rec.reason === INPUT_HIDDEN_REASON && rec.lostBytes === 0) {
          // Output goes on unbroken; typed bytes after it do not continue a sequence cut before it.
          if (!opts.input) break;
          const i = input.decode();
          if (i) yield event(rec.tUs, 'i', i);
          yield event(rec.tUs, 'm', INPUT_HIDDEN_REASON);
          break;
        }
        // The bytes after a gap do not continue a sequence cut before it: flush, do not join.
        yield* flush(rec.tUs);
        yield event(rec.tUs, 'm', `gap: ${rec.lostBytes} bytes lost${rec.reason ? ` (${rec.reason})` : ''}`);
        break;
      case RecordKind.Exit: {
        yield* flush(rec.tUs);
        const status = exitStatus(rec.exitCode, rec.signal);
        const killed = rec.signal !== null ? `killed by signal ${rec.signal}` : undefined;
        if (opts.version === 2) yield event(rec.tUs, 'm', killed ?? `exit ${status ?? 'unknown'}`);
        else {
          if (killed) yield event(rec.tUs, 'm', killed); // "x" alone cannot tell 137 from SIGKILL
          if (status !== null) yield event(rec.tUs, 'x', String(status));
        }
        break;
      }
    }
  }
  yield* flush(lastTUs);
}

/** One piece of a typescript export: bytes for FILE and/or a line for FILE.timing. */
export interface ScriptPiece {
  /** Bytes to append to the typescript file. */
  typescript?: Buffer;
  /** Line to append to the timing file (`SECONDS BYTES\n`). */
  timing?: string;
}

/** `2026-11-21 13:53:03+00:00`: how script(1) writes a date, here always in UTC. */
function scriptDate(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}+00:00`;
}

/** A header value kept on one line: scriptreplay skips exactly one line before the output starts. */
function oneLine(value: string): string {
  return [...value].map((c) => (c < ' ' || c === '\x7f' || c === '"' ? '?' : c)).join('');
}

/**
 * Encodes a session as script(1) would have recorded it with `script -t FILE 2>FILE.timing`:
 * the typescript is a `Script started on ...` line (which scriptreplay skips), every output byte
 * exactly as recorded, and, for a session that exited, script's `Script done on ...` trailer with
 * the exit status (outside the timing, so never replayed). The timing file has one classic line per
 * output record: seconds since the previous output record (µs precision), then its byte count.
 * Resizes, input and gaps have no place in this format and are left out.
 */
export function* script(meta: SessionMeta, records: Iterable<StreamRecord>): Generator<ScriptPiece> {
  const startMs = Date.parse(meta.startedAt);
  const fields = [
    meta.term ? `TERM="${oneLine(meta.term)}"` : '',
    meta.tty ? `TTY="${oneLine(meta.tty)}"` : '',
    `COLUMNS="${meta.cols}"`,
    `LINES="${meta.rows}"`,
  ].filter(Boolean);
  yield { typescript: Buffer.from(`Script started on ${scriptDate(startMs)} [${fields.join(' ')}]\n`) };
  const clock = monotonic();
  let previous = 0;
  for (const rec of records) {
    // scriptreplay asserts that a step has bytes: an empty record gets no timing line.
    if (rec.kind === RecordKind.Output && rec.data.length > 0) {
      const t = clock(rec.tUs);
      yield { typescript: rec.data, timing: `${seconds(t - previous)} ${rec.data.length}\n` };
      previous = t;
    } else if (rec.kind === RecordKind.Exit) {
      const status = exitStatus(rec.exitCode, rec.signal);
      const when = scriptDate(startMs + clock(rec.tUs) / 1000);
      if (status !== null) yield { typescript: Buffer.from(`\nScript done on ${when} [COMMAND_EXIT_CODE="${status}"]\n`) };
    }
  }
}
