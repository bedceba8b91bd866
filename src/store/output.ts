/**
 * Reading a range of a session's output byte stream: the concatenation of the payloads of all
 * output records of stream.bin, in order. Command records (events.jsonl) name their output by
 * offsets in this stream; `omnish show` and the LLM context builder read it back here.
 */
import { RecordKind } from './format.js';
import { readStream } from './reader.js';

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
 * Reads the output bytes [start, end) (offsets in the output byte stream, bytes) of the stream file
 * at `path`, with the terminal size in effect when byte `start` was written. Stops reading at `end`;
 * a torn tail just ends the data early.
 * @param initial the session's size at its start (meta.json cols, rows)
 * @throws StoreError when the file is missing or not a stream file
 */
export function readOutputRange(path: string, start: number, end: number, initial: { cols: number; rows: number }): OutputRange {
  let { cols, rows } = initial;
  const parts: Buffer[] = [];
  let offset = 0; // output bytes before the current record
  for (const rec of readStream(path)) {
    if (offset >= end) break;
    if (rec.kind === RecordKind.Resize) {
      // A resize recorded before the range's first byte is the size the range was written for.
      if (offset <= start) ({ cols, rows } = rec);
      continue;
    }
    if (rec.kind !== RecordKind.Output) continue;
    const next = offset + rec.data.length;
    if (next > start) parts.push(rec.data.subarray(Math.max(0, start - offset), Math.min(rec.data.length, end - offset)));
    offset = next;
  }
  return { data: Buffer.concat(parts), cols, rows };
}
