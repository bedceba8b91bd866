import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../common/errors.js';
import { readOutputRange, visitOutputRanges, type OutputSpan } from './output.js';
import { StreamWriter } from './writer.js';

let tmp: string;
let path: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-output-'));
  path = join(tmp, 'stream.bin');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const INITIAL = { cols: 80, rows: 24 };

/** Output "0123456789" "abcdefghij" "ABCDEFGHIJ" (offsets 0-29) with an input record and a resize to 132x50 at offset 10. */
function writeStream(): void {
  const w = StreamWriter.open(path);
  w.output(1, Buffer.from('0123456789'));
  w.input(2, Buffer.from('typed'));
  w.resize(3, 132, 50);
  w.output(4, Buffer.from('abcdefghij'));
  w.output(5, Buffer.from('ABCDEFGHIJ'));
  w.close();
}

/** Every range's bytes, joined, as visitOutputRanges hands them over. */
function visit(ranges: OutputSpan[]): { texts: string[]; sizes: { cols: number; rows: number }[] } {
  const texts = ranges.map(() => '');
  const sizes = visitOutputRanges(path, ranges, INITIAL, (i, piece) => void (texts[i] += piece.toString()));
  return { texts, sizes };
}

describe('readOutputRange', () => {
  it('reads a range across records, with the size in effect at its first byte', () => {
    writeStream();
    expect(readOutputRange(path, 5, 25, INITIAL)).toEqual({ data: Buffer.from('56789abcdefghijABCDE'), ...INITIAL });
    // The resize came after byte 9 and before byte 10.
    expect(readOutputRange(path, 10, 12, INITIAL)).toEqual({ data: Buffer.from('ab'), cols: 132, rows: 50 });
    expect(readOutputRange(path, 28, 99, INITIAL)).toEqual({ data: Buffer.from('IJ'), cols: 132, rows: 50 });
  });

  it('throws StoreError for a missing file', () => {
    expect(() => readOutputRange(path, 0, 1, INITIAL)).toThrow(StoreError);
  });
});

describe('visitOutputRanges', () => {
  it('reads several ranges in one pass, each with its own size; one past the end is empty', () => {
    writeStream();
    expect(visit([{ start: 0, end: 3 }, { start: 8, end: 12 }, { start: 19, end: 21 }, { start: 29, end: 40 }, { start: 50, end: 60 }])).toEqual({
      texts: ['012', '89ab', 'jA', 'J', ''],
      sizes: [INITIAL, INITIAL, { cols: 132, rows: 50 }, { cols: 132, rows: 50 }, { cols: 132, rows: 50 }],
    });
  });

  it('gives what readOutputRange gives for every range', () => {
    writeStream();
    const ranges: OutputSpan[] = [];
    for (let start = 0; start < 32; start += 3) ranges.push({ start, end: start + 3 });
    const { texts, sizes } = visit(ranges);
    ranges.forEach((r, i) => {
      const one = readOutputRange(path, r.start, r.end, INITIAL);
      expect({ text: texts[i], size: sizes[i] }).toEqual({ text: one.data.toString(), size: { cols: one.cols, rows: one.rows } });
    });
  });

  it('does not open the file for no ranges', () => {
    expect(visitOutputRanges(path, [], INITIAL, () => {})).toEqual([]);
  });
});
