/**
 * Cutting the middle out of an ended session's stream.bin (retention, docs/store-format.md
 * "Retention"): the first quarter and the last three quarters of the cap stay, with one gap record
 * between them counting what was dropped. The file is rewritten whole (new file, fsync, rename),
 * so a reader or a crash sees the old stream or the new one.
 *
 * Command records address output by offsets in the output byte stream, which counts recorded
 * bytes only; so events.jsonl is rewritten too, with offsets after the cut moved back and
 * `outputTrimmed` on each command that lost output. The two renames cannot be one atomic step:
 * the new events file waits under a name holding the new stream's size (`events.jsonl.trim-N`),
 * and recoverTrim() finishes the job if a crash came between the renames.
 */
import { closeSync, fstatSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '../common/errors.js';
import { EVENTS_FILE, readEvents } from './events.js';
import { HEADER_SIZE, RECORD_HEADER_SIZE, RecordKind, readU64, writeRecordHeader, writeU64 } from './format.js';
import { scanStream } from './reader.js';
import { copyRange, pread, writeAll, writeDurably } from './trim-io.js';

/** Reason of the gap record a trim writes. */
export const TRIM_REASON = 'retention: session over max_session_mb';
const STREAM = 'stream.bin';
const PENDING_EVENTS = /^events\.jsonl\.trim-(\d+)$/;
/**
 * Smallest size a stream is cut to, bytes: below it the head, the tail and the records a cut adds
 * would not fit (a smaller max_session_mb counts as this much).
 */
export const MIN_CAP = 4096;
/** Room for the records a trim adds: a gap (with TRIM_REASON) and a resize, bytes. */
const OVERHEAD = RECORD_HEADER_SIZE * 2 + 8 + Buffer.byteLength(TRIM_REASON) + 4;

/** A split output/input record: its kind, time and the part of its payload that stays. */
interface Piece { kind: number; tUs: number; off: number; from: number; to: number }

/** What a trim keeps of one stream file. All offsets are file offsets, bytes. */
export interface TrimPlan {
  /** Size of stream.bin now, bytes. */
  oldBytes: number;
  /** Size it will have, bytes (at most the cap). */
  newBytes: number;
  /** Bytes [0, headEnd) are kept as they are (file header and the first whole records). */
  headEnd: number;
  /** Bytes [tailStart, validEnd) are kept as they are (the last whole records). */
  tailStart: number;
  validEnd: number;
  /** Beginning / end of an output or input record cut at the head / tail boundary. */
  headPiece: Piece | null;
  tailPiece: Piece | null;
  /** The last resize in the dropped part, written again so the tail replays at the right size. */
  resize: { tUs: number; cols: number; rows: number } | null;
  /** tUs of the gap record: the last dropped record's, µs since session start. */
  gapTUs: number;
  /** Output and input bytes dropped, plus the lostBytes of dropped gap records: the gap's lostBytes. */
  lostBytes: number;
  /** Offset in the output byte stream where the cut is, bytes (output bytes kept before it). */
  cutAt: number;
  /** Output bytes dropped, bytes: output offsets at or after cutAt + dropped move back by this much. */
  droppedOutput: number;
}

/**
 * Plans cutting `<dir>/stream.bin` down to at most `cap` bytes (at least MIN_CAP): the records in
 * its first quarter and in the last three quarters, less the room for the records a cut adds.
 * Reads record headers only.
 * @returns null when the complete records already fit (a torn tail beyond them does not count).
 * @throws StoreError when the file is missing or not a stream file.
 */
export function planTrim(dir: string, cap: number): TrimPlan | null {
  const path = join(dir, STREAM);
  const capBytes = Math.max(MIN_CAP, cap);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw new StoreError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (size <= capBytes) return null; // the common case, decided without reading the file
  const validEnd = scanStream(path).validBytes; // a torn tail is left out of the new file
  if (validEnd <= capBytes) return null;
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(RECORD_HEADER_SIZE + 8);
    const headLimit = Math.max(HEADER_SIZE, Math.floor(capBytes / 4));
    const tailLimit = validEnd - Math.max(0, capBytes - headLimit - OVERHEAD);
    const plan: TrimPlan = {
      oldBytes: size, newBytes: 0, headEnd: HEADER_SIZE, tailStart: validEnd, validEnd, headPiece: null, tailPiece: null,
      resize: null, gapTUs: 0, lostBytes: 0, cutAt: 0, droppedOutput: 0,
    };
    let inHead = true;
    for (let off = HEADER_SIZE; off < validEnd; ) {
      pread(fd, head, RECORD_HEADER_SIZE + 8, off);
      const kind = head[0] ?? 0;
      const tUs = readU64(head, 1);
      const length = head.readUInt32BE(9);
      const end = off + RECORD_HEADER_SIZE + length;
      const isOutput = kind === RecordKind.Output;
      if (inHead && end <= headLimit) {
        plan.headEnd = end;
        if (isOutput) plan.cutAt += length;
      } else if (off >= tailLimit) {
        plan.tailStart = Math.min(plan.tailStart, off);
      } else {
        // Dropped, except for the ends of an output/input record that crosses a boundary.
        let from = 0;
        let to = length;
        if (kind === RecordKind.Output || kind === RecordKind.Input) {
          if (inHead) from = Math.max(0, Math.min(length, headLimit - off - RECORD_HEADER_SIZE));
          if (end > tailLimit) to = Math.min(length, Math.max(from, length - (end - tailLimit - RECORD_HEADER_SIZE)));
          if (from > 0) plan.headPiece = { kind, tUs, off, from: 0, to: from };
          if (to < length) plan.tailPiece = { kind, tUs, off, from: to, to: length };
          plan.lostBytes += to - from;
          if (isOutput) {
            plan.cutAt += from;
            plan.droppedOutput += to - from;
          }
        } else if (kind === RecordKind.Gap && length >= 8) plan.lostBytes += readU64(head, RECORD_HEADER_SIZE);
        else if (kind === RecordKind.Resize && length >= 4) {
          plan.resize = { tUs, cols: head.readUInt16BE(RECORD_HEADER_SIZE), rows: head.readUInt16BE(RECORD_HEADER_SIZE + 2) };
        }
        plan.gapTUs = tUs;
        inHead = false;
      }
      off = end;
    }
    const piece = (p: Piece | null) => (p ? RECORD_HEADER_SIZE + p.to - p.from : 0);
    plan.newBytes = plan.headEnd + piece(plan.headPiece) + (plan.resize ? RECORD_HEADER_SIZE + 4 : 0) +
      OVERHEAD - RECORD_HEADER_SIZE - 4 + piece(plan.tailPiece) + (validEnd - plan.tailStart);
    return plan;
  } catch (err) {
    throw err instanceof StoreError ? err : new StoreError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

/** The records a trim writes between head and tail: head piece, resize, gap, tail piece. */
function middle(fd: number, plan: TrimPlan): Buffer {
  const parts: Buffer[] = [];
  const piece = (p: Piece | null): void => {
    if (!p) return;
    const rec = Buffer.alloc(RECORD_HEADER_SIZE + p.to - p.from);
    writeRecordHeader(rec, 0, p.kind, p.tUs, p.to - p.from);
    pread(fd, rec.subarray(RECORD_HEADER_SIZE), p.to - p.from, p.off + RECORD_HEADER_SIZE + p.from);
    parts.push(rec);
  };
  piece(plan.headPiece);
  if (plan.resize) {
    const rec = Buffer.alloc(RECORD_HEADER_SIZE + 4);
    writeRecordHeader(rec, 0, RecordKind.Resize, plan.resize.tUs, 4);
    rec.writeUInt16BE(plan.resize.cols, RECORD_HEADER_SIZE);
    rec.writeUInt16BE(plan.resize.rows, RECORD_HEADER_SIZE + 2);
    parts.push(rec);
  }
  const reason = Buffer.from(TRIM_REASON);
  const gap = Buffer.alloc(RECORD_HEADER_SIZE + 8 + reason.length);
  writeRecordHeader(gap, 0, RecordKind.Gap, plan.gapTUs, 8 + reason.length);
  writeU64(gap, plan.lostBytes, RECORD_HEADER_SIZE);
  reason.copy(gap, RECORD_HEADER_SIZE + 8);
  parts.push(gap);
  piece(plan.tailPiece);
  return Buffer.concat(parts);
}

/** Moves an output offset to where its byte is after the trim (a dropped byte: to the cut). */
function moveOffset(offset: number, plan: TrimPlan): number {
  if (offset <= plan.cutAt) return offset;
  return Math.max(plan.cutAt, offset - plan.droppedOutput);
}

/** events.jsonl with the command records' offsets moved and `outputTrimmed` (bytes) added where output was lost. */
function movedEvents(dir: string, plan: TrimPlan): string {
  return readEvents(dir).map((e) => {
    if (e.type !== 'command' || typeof e.outputStart !== 'number' || typeof e.outputEnd !== 'number') return `${JSON.stringify(e)}\n`;
    const start = moveOffset(e.outputStart, plan);
    const end = moveOffset(e.outputEnd, plan);
    const lost = e.outputEnd - e.outputStart - (end - start);
    const moved: Record<string, unknown> = { ...e, outputStart: start, outputEnd: end };
    if (lost > 0) moved.outputTrimmed = (typeof e.outputTrimmed === 'number' ? e.outputTrimmed : 0) + lost;
    return `${JSON.stringify(moved)}\n`;
  }).join('');
}

/**
 * Rewrites `<dir>/stream.bin` and `<dir>/events.jsonl` as `plan` says. Only for an ended session:
 * a writer appending meanwhile would lose its records.
 * @throws StoreError when a file cannot be read or written (the session is left as it was, or, after
 *   a crash between the two renames, as recoverTrim() completes it).
 */
export function applyTrim(dir: string, plan: TrimPlan): void {
  const path = join(dir, STREAM);
  const tmp = `${path}.tmp`;
  let pendingEvents = '';
  let committed = false; // once the new stream is in place, its events must follow (recoverTrim)
  try {
    const events = movedEvents(dir, plan); // before anything is written: a corrupt file stops the trim
    const src = openSync(path, 'r');
    let size = 0;
    try {
      if (fstatSync(src).size !== plan.oldBytes) throw new Error('it changed since the trim was planned');
      writeDurably(tmp, (dst) => {
        const mid = middle(src, plan);
        const at = copyRange(src, dst, 0, plan.headEnd, 0);
        writeAll(dst, mid, at);
        size = copyRange(src, dst, plan.tailStart, plan.validEnd, at + mid.length);
      });
    } finally {
      closeSync(src);
    }
    pendingEvents = join(dir, `${EVENTS_FILE}.trim-${size}`);
    writeDurably(pendingEvents, (fd) => writeFileSync(fd, events));
    renameSync(tmp, path);
    committed = true;
    renameSync(pendingEvents, join(dir, EVENTS_FILE));
  } catch (err) {
    if (!committed) {
      rmSync(tmp, { force: true });
      if (pendingEvents) rmSync(pendingEvents, { force: true });
    }
    throw new StoreError(`cannot trim ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Finishes or undoes a trim a crash interrupted: a pending events file is renamed into place if
 * stream.bin already has the size it was written for (the stream's rename happened), else removed;
 * a leftover stream.bin.tmp is removed.
 */
export function recoverTrim(dir: string): void {
  for (const name of readdirSync(dir)) {
    const pending = PENDING_EVENTS.exec(name);
    if (name === `${STREAM}.tmp`) rmSync(join(dir, name), { force: true });
    if (!pending) continue;
    let size = -1;
    try {
      size = statSync(join(dir, STREAM)).size;
    } catch {
      // no stream: the pending file cannot match it
    }
    if (size === Number(pending[1])) renameSync(join(dir, name), join(dir, EVENTS_FILE));
    else rmSync(join(dir, name), { force: true });
  }
}
