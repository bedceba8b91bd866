/**
 * Reading ranges of a session's output byte stream: the concatenation of the payloads of all
 * output records of stream.bin, in order. Command records (events.jsonl) name their output by
 * offsets in this stream; `omnish show` reads one range back with readOutputRange, the LLM context
 * builder reads dozens in one pass with visitOutputRanges.
 */
import { RecordKind } from './format.js';
import { readStream } from './reader.js';

/** A terminal's size in cells. */
export interface TerminalSize {
  /** Width in cells. */
  cols: number;
  /** Height in cells. */
  rows: number;
}

/** A range [start, end) of the output byte stream: offsets in bytes. */
export interface OutputSpan {
  start: number;
  end: number;
}

/** Output bytes of a range, and the terminal size they were written for. */
export interface OutputRange {
  /** The bytes of the output byte stream in [start, end) (fewer if the file ends first). */
  data: Buffer;
  /** Terminal width in cells at `start`: the last resize before it, else the session's initial width. */
  cols: number;
  /** Terminal height in cells at `start`, likewise. */
  rows: number;
}

/**
 * Reads several ranges of the output byte stream of the stream file at `path` in one pass, handing
 * each range's bytes to `visit` as they are read, so a caller may keep them, count them or drop
 * them (a 2 GB range costs no memory to count). Stops reading after the last range; a torn tail
 * just ends the data early.
 * @param ranges [start, end) offsets in bytes, sorted by start and not overlapping
 * @param initial the session's size at its start (meta.json cols, rows)
 * @param visit called with consecutive pieces of range number `index` (an index into `ranges`), in
 *   stream order; each piece is a view of the reader's buffer, valid only during the call (copy
 *   what is kept: most of a long range is only counted, and copying it all cost memory)
 * @returns for each range, the terminal size in effect when byte `start` was written: the last
 *   resize recorded before it, else `initial`
 * @throws StoreError when the file is missing or not a stream file (not opened when `ranges` is empty)
 */
export function visitOutputRanges(
  path: string,
  ranges: readonly OutputSpan[],
  initial: TerminalSize,
  visit: (index: number, piece: Buffer) => void,
): TerminalSize[] {
  if (ranges.length === 0) return [];
  let { cols, rows } = initial;
  const sizes: (TerminalSize | undefined)[] = ranges.map(() => undefined);
  const last = ranges.reduce((end, r) => Math.max(end, r.end), 0);
  let offset = 0; // output bytes before the current record
  let first = 0; // ranges before this one are complete
  for (const rec of readStream(path, { borrow: true })) {
    if (offset >= last) break;
    if (rec.kind === RecordKind.Resize) {
      ({ cols, rows } = rec);
      continue;
    }
    if (rec.kind !== RecordKind.Output) continue;
    const next = offset + rec.data.length;
    for (let i = first; i < ranges.length; i++) {
      const r = ranges[i];
      if (!r || r.start >= next) break;
      // The record holding byte `start`: every resize before it was recorded before that byte.
      sizes[i] ??= { cols, rows };
      if (r.end <= offset) {
        if (i === first) first++;
        continue;
      }
      visit(i, rec.data.subarray(Math.max(0, r.start - offset), Math.min(rec.data.length, r.end - offset)));
    }
    offset = next;
  }
  // A range starting at or past the last byte read: the size when reading stopped.
  return sizes.map((s) => s ?? { cols, rows });
}

/**
 * Reads the output bytes [start, end) (offsets in the output byte stream, bytes) of the stream file
 * at `path`, with the terminal size in effect when byte `start` was written. Stops reading at `end`;
 * a torn tail just ends the data early.
 * @param initial the session's size at its start (meta.json cols, rows)
 * @throws StoreError when the file is missing or not a stream file
 */
export function readOutputRange(path: string, start: number, end: number, initial: TerminalSize): OutputRange {
  const parts: Buffer[] = [];
  const [size = initial] = visitOutputRanges(path, [{ start, end }], initial, (_, piece) => parts.push(Buffer.from(piece)));
  return { data: Buffer.concat(parts), ...size };
}
