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

/** Bytes the tail holds beyond OUTPUT_TAIL_BYTES: the chunk with the D mark can run past the command's end. */
const TAIL_SLACK_BYTES = 64 * 1024;
/** The tail's first allocation, bytes; it doubles up to its capacity as output comes. */
const TAIL_FIRST_BYTES = 4096;

/**
 * The newest output of a session, up to OUTPUT_TAIL_BYTES + TAIL_SLACK_BYTES bytes, in a ring
 * buffer: each chunk is copied in once, with no allocation once the ring is full. (Keeping a copy
 * of every chunk, as this did, cost a 64 KiB allocation per chunk, and this VM pays ~12 µs per
 * page fault: a third of the daemon's ingest CPU.) Copies, since the decoder's buffer may be a
 * slice of a large frame that should not stay pinned.
 */
export class OutputTail {
  private ring = Buffer.alloc(0);
  /** Index in `ring` where the next byte goes. */
  private next = 0;
  /** Bytes held, the newest ones: stream offsets [end - held, end). */
  private held = 0;
  private end = 0;

  constructor(private readonly capacity = OUTPUT_TAIL_BYTES + TAIL_SLACK_BYTES) {}

  /** Adds the chunk at stream offset `start`; a chunk that does not follow the last one starts afresh. */
  add(start: number, data: Uint8Array): void {
    if (start !== this.end) this.held = 0;
    this.end = start + data.length;
    const keep = data.length > this.capacity ? data.subarray(data.length - this.capacity) : data;
    this.reserve(Math.min(this.capacity, this.held + keep.length));
    const size = this.ring.length;
    const first = Math.min(keep.length, size - this.next);
    this.ring.set(keep.subarray(0, first), this.next);
    this.ring.set(keep.subarray(first), 0);
    this.next = (this.next + keep.length) % size;
    this.held = Math.min(size, this.held + keep.length);
  }

  /** The last OUTPUT_TAIL_BYTES bytes of the stream range [start, end) that are still held, copied. */
  bytes(start: number, end: number): Buffer {
    const from = Math.max(start, end - OUTPUT_TAIL_BYTES, this.end - this.held);
    const to = Math.min(end, this.end);
    if (from >= to) return Buffer.alloc(0);
    const size = this.ring.length;
    const a = (this.next - (this.end - from) + size) % size;
    const n = to - from;
    const out = Buffer.allocUnsafe(n);
    const first = Math.min(n, size - a);
    this.ring.copy(out, 0, a, a + first);
    this.ring.copy(out, first, 0, n - first);
    return out;
  }

  /** Grows the ring (doubling, up to the capacity) to hold `bytes`, keeping what it holds in order. */
  private reserve(bytes: number): void {
    if (bytes <= this.ring.length) return;
    let size = Math.max(this.ring.length, TAIL_FIRST_BYTES);
    while (size < bytes) size *= 2;
    const grown = Buffer.allocUnsafe(Math.min(size, this.capacity));
    const oldest = (this.next - this.held + this.ring.length) % (this.ring.length || 1);
    const first = Math.min(this.held, this.ring.length - oldest);
    this.ring.copy(grown, 0, oldest, oldest + first);
    this.ring.copy(grown, first, 0, this.held - first);
    this.ring = grown;
    this.next = this.held % grown.length;
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
  /** The session's newest output, from which a finished command's tail is read. */
  private readonly tail = new OutputTail();
  /** The chunk whose marks are being applied (a command opened in it takes its head from it). */
  private chunk: { base: number; data: Uint8Array } | null = null;

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
    this.tail.add(baseOffset, data);
    this.open?.head.add(baseOffset, data); // bytes past its end are cut off when read
    if (events.length === 0) return [];
    const done: FinishedCommand[] = [];
    this.chunk = { base: baseOffset, data };
    for (const e of events) this.apply(e, tUs, done);
    this.chunk = null;
    return done;
  }

  /** The session ended at `tUs`: a command still running is finished with exit status null. */
  finish(tUs: number): FinishedCommand[] {
    return this.open ? [this.close(this.open, tUs, null, this.offset)] : [];
  }

  private apply(e: MarkEvent, tUs: number, done: FinishedCommand[]): void {
    switch (e.kind) {
      case 'E':
        this.command = e.command ?? null;
        break;
      case 'P':
        this.cwd = e.cwd ?? null;
        break;
      case 'C': {
        if (this.open) done.push(this.close(this.open, tUs, null, e.start));
        // The chunk holding the C mark: its bytes after the mark start the new command's head.
        const head = new OutputHead(e.offset);
        if (this.chunk) head.add(this.chunk.base, this.chunk.data);
        this.open = { startedAtUs: tUs, outputStart: e.offset, command: this.command, cwd: this.cwd, altScreen: false, head };
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
    return { record, output: this.tail.bytes(open.outputStart, outputEnd), head: open.head.bytes(outputEnd) };
  }
}
