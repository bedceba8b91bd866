/**
 * Splitting a session into commands. The shell integration marks each command (OSC 133 C … D,
 * with OSC 633 E for its command line and P for its directory; src/shell/marks.ts); the daemon
 * parses the output as it records it and writes one command record per command to events.jsonl.
 * Record format: docs/store-format.md; the record type: src/store/records.ts.
 */
import { MarkParser, type MarkEvent } from '../shell/marks.js';
import type { CommandRecord } from '../store/index.js';
import { INDEX_HEAD_BYTES } from '../search/text.js';

/** A finished command with the end of its output, for the event detector. */
export interface FinishedCommand {
  record: CommandRecord;
  /** The last (at most OUTPUT_TAIL_BYTES) bytes of the command's output, raw. */
  output: Buffer;
  /** The first (at most INDEX_HEAD_BYTES) bytes of the command's output, raw: the search index keeps its head and tail. */
  head: Buffer;
}

/** How much of a command's output the detector gets to see, bytes (its tail). */
export const OUTPUT_TAIL_BYTES = 256 * 1024;

/** The newest output chunks of a running command, with their stream offsets, about OUTPUT_TAIL_BYTES in all. */
class OutputTail {
  private chunks: { start: number; data: Buffer }[] = [];
  private total = 0;

  add(start: number, data: Uint8Array): void {
    // A copy: the decoder's buffer may be a slice of a large frame that should not stay pinned.
    this.chunks.push({ start, data: Buffer.from(data) });
    this.total += data.length;
    for (let first = this.chunks[0]; first && this.total - first.data.length >= OUTPUT_TAIL_BYTES; first = this.chunks[0]) {
      this.chunks.shift();
      this.total -= first.data.length;
    }
  }

  /** The last OUTPUT_TAIL_BYTES bytes of the stream range [start, end) that are still held. */
  bytes(start: number, end: number): Buffer {
    const from = Math.max(start, end - OUTPUT_TAIL_BYTES);
    const parts: Buffer[] = [];
    for (const c of this.chunks) {
      const a = Math.max(from, c.start);
      const b = Math.min(end, c.start + c.data.length);
      if (a < b) parts.push(c.data.subarray(a - c.start, b - c.start));
    }
    return Buffer.concat(parts);
  }
}

/** The first INDEX_HEAD_BYTES bytes of a command's output from stream offset `start` on. */
class OutputHead {
  private readonly chunks: Buffer[] = [];
  private held = 0;

  constructor(private readonly start: number) {}

  add(chunkStart: number, data: Uint8Array): void {
    if (this.held >= INDEX_HEAD_BYTES) return;
    const from = Math.max(0, this.start - chunkStart);
    if (from >= data.length) return;
    const piece = Buffer.from(data.subarray(from, from + INDEX_HEAD_BYTES - this.held));
    this.chunks.push(piece);
    this.held += piece.length;
  }

  /** The held bytes before stream offset `end`. */
  bytes(end: number): Buffer {
    return Buffer.concat(this.chunks).subarray(0, Math.max(0, end - this.start));
  }
}

interface OpenCommand {
  startedAtUs: number;
  outputStart: number;
  command: string | null;
  cwd: string | null;
  altScreen: boolean;
  tail: OutputTail;
  head: OutputHead;
}

/**
 * Turns one session's output into command records. A command runs from a C mark to the next D
 * mark; a prompt (A) or a new C before any D also ends it, with exit status null. What is running
 * when the daemon restarts is lost: its C is not seen again.
 */
export class CommandTracker {
  private readonly parser: MarkParser;
  private offset: number;
  private lastSeq: number;
  /** Last command line (E) since the last C, last directory (P) ever seen. */
  private command: string | null = null;
  private cwd: string | null = null;
  private open: OpenCommand | null = null;

  /**
   * @param nonce the session's secret (SessionStart.nonce); marks without it are ignored
   * @param outputOffset bytes of output the session already has (resumed sessions), so offsets continue
   * @param lastSeq highest command seq already in the session's events.jsonl (0 for none)
   */
  constructor(nonce: string, outputOffset = 0, lastSeq = 0) {
    this.parser = new MarkParser(nonce);
    this.offset = outputOffset;
    this.lastSeq = lastSeq;
  }

  /**
   * Feeds one output chunk, read at `tUs` (µs since session start).
   * @param baseOffset the chunk's offset in the output byte stream (default: after the previous chunk)
   * @returns the commands that finished in this chunk
   */
  output(tUs: number, data: Uint8Array, baseOffset = this.offset): FinishedCommand[] {
    this.offset = baseOffset + data.length;
    const events = this.parser.push(data, baseOffset);
    if (this.open) {
      this.open.tail.add(baseOffset, data);
      this.open.head.add(baseOffset, data);
    }
    if (events.length === 0) return [];
    const done: FinishedCommand[] = [];
    for (const e of events) this.apply(e, tUs, baseOffset, data, done);
    return done;
  }

  /** The session ended at `tUs`: a command still running is finished with exit status null. */
  finish(tUs: number): FinishedCommand[] {
    return this.open ? [this.close(this.open, tUs, null, this.offset)] : [];
  }

  private apply(e: MarkEvent, tUs: number, base: number, data: Uint8Array, done: FinishedCommand[]): void {
    switch (e.kind) {
      case 'E':
        this.command = e.command ?? null;
        break;
      case 'P':
        this.cwd = e.cwd ?? null;
        break;
      case 'C': {
        if (this.open) done.push(this.close(this.open, tUs, null, e.start));
        const tail = new OutputTail();
        tail.add(base, data); // bytes before the C mark are cut off when read
        const head = new OutputHead(e.offset);
        head.add(base, data);
        this.open = { startedAtUs: tUs, outputStart: e.offset, command: this.command, cwd: this.cwd, altScreen: false, tail, head };
        this.command = null; // each command line names one command
        break;
      }
      case 'D':
      case 'A':
        // A prompt without a D first: the shell did not report the status (e.g. its hook was replaced).
        if (this.open) done.push(this.close(this.open, tUs, e.kind === 'D' ? (e.exitCode ?? null) : null, e.start));
        break;
      case 'alt-on':
        if (this.open) this.open.altScreen = true;
        break;
      default:
        break;
    }
  }

  private close(open: OpenCommand, tUs: number, exitCode: number | null, end: number): FinishedCommand {
    this.open = null;
    const outputEnd = Math.max(end, open.outputStart);
    const record: CommandRecord = {
      type: 'command',
      seq: ++this.lastSeq,
      command: open.command,
      cwd: open.cwd,
      startedAtUs: open.startedAtUs,
      endedAtUs: Math.max(tUs, open.startedAtUs),
      exitCode,
      outputStart: open.outputStart,
      outputEnd,
      altScreen: open.altScreen,
    };
    return { record, output: open.tail.bytes(open.outputStart, outputEnd), head: open.head.bytes(outputEnd) };
  }
}
