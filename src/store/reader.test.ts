import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../common/errors.js';
import { HEADER_SIZE, MAX_PAYLOAD, RECORD_HEADER_SIZE, RecordKind, streamHeader, writeRecordHeader, type StreamRecord } from './format.js';
import { readStream, scanStream, type StreamEnd } from './reader.js';
import { StreamWriter } from './writer.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-reader-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function readAll(path: string, chunkSize?: number): { records: StreamRecord[]; end: StreamEnd } {
  const reader = readStream(path, { chunkSize });
  const records = [...reader];
  return { records, end: reader.end };
}

/** Every byte value once, so nothing gets lost to text decoding or sign handling. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
function bytes(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function record(kind: number, tUs: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(RECORD_HEADER_SIZE);
  writeRecordHeader(head, 0, kind, tUs, payload.length);
  return Buffer.concat([head, payload]);
}

describe('readStream', () => {
  it('round-trips every record kind, binary payloads and large timestamps', () => {
    const path = join(tmp, 'stream.bin');
    const w = StreamWriter.open(path);
    w.output(0, ALL_BYTES);
    w.input(1, ALL_BYTES);
    w.resize(2, 80, 24);
    w.resize(3, 0xffff, 0);
    w.gap(2 ** 32 + 7, 2 ** 40 + 5, 'client buffer full — ünïcode ✓');
    w.output(Number.MAX_SAFE_INTEGER, Buffer.from('last words'));
    w.exit(Number.MAX_SAFE_INTEGER, 0, null);
    w.exit(Number.MAX_SAFE_INTEGER, null, 9);
    w.exit(Number.MAX_SAFE_INTEGER, 255, 15);
    w.close();

    const { records, end } = readAll(path);
    expect(records).toEqual([
      { kind: RecordKind.Output, tUs: 0, data: ALL_BYTES },
      { kind: RecordKind.Input, tUs: 1, data: ALL_BYTES },
      { kind: RecordKind.Resize, tUs: 2, cols: 80, rows: 24 },
      { kind: RecordKind.Resize, tUs: 3, cols: 0xffff, rows: 0 },
      { kind: RecordKind.Gap, tUs: 2 ** 32 + 7, lostBytes: 2 ** 40 + 5, reason: 'client buffer full — ünïcode ✓' },
      { kind: RecordKind.Output, tUs: Number.MAX_SAFE_INTEGER, data: Buffer.from('last words') },
      { kind: RecordKind.Exit, tUs: Number.MAX_SAFE_INTEGER, exitCode: 0, signal: null },
      { kind: RecordKind.Exit, tUs: Number.MAX_SAFE_INTEGER, exitCode: null, signal: 9 },
      { kind: RecordKind.Exit, tUs: Number.MAX_SAFE_INTEGER, exitCode: 255, signal: 15 },
    ]);
    expect(end).toEqual({ torn: false, validBytes: readFileSync(path).length, fileBytes: readFileSync(path).length, skipped: 0 });
  });

  it('matches the documented bytes (golden)', () => {
    const path = join(tmp, 'stream.bin');
    const w = StreamWriter.open(path);
    w.output(0x0102030405, Buffer.from('hi'));
    w.resize(7, 80, 24);
    w.exit(8, 1, null);
    w.close();
    expect(readFileSync(path).toString('hex')).toBe(
      '4f4d53545245414d' + '01' + '00000000000000' + // "OMSTREAM", version 1, reserved
        '01' + '0000000102030405' + '00000002' + '6869' + // output "hi" at 0x0102030405 µs
        '03' + '0000000000000007' + '00000004' + '0050' + '0018' + // resize 80x24
        '05' + '0000000000000008' + '00000008' + '00000001' + 'ffffffff', // exit 1, no signal
    );
  });

  it('reads large data across chunk boundaries with any chunk size', () => {
    const path = join(tmp, 'stream.bin');
    const w = StreamWriter.open(path);
    const sent: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const chunk = bytes(1 + ((i * 7919) % 9000), i + 1);
      sent.push(chunk);
      w.output(i * 1000, chunk);
      if (i % 50 === 0) w.resize(i * 1000, 80 + i, 24);
    }
    const big = bytes(MAX_PAYLOAD * 2 + 12345, 99); // split by the writer into three records
    sent.push(big);
    w.output(400_000, big);
    w.close();

    for (const chunkSize of [1, 7, 4096, 65_536, undefined]) {
      const { records, end } = readAll(path, chunkSize);
      const out = records.flatMap((r) => (r.kind === RecordKind.Output ? [r.data] : []));
      expect(Buffer.concat(out).equals(Buffer.concat(sent))).toBe(true);
      expect(records.filter((r) => r.kind === RecordKind.Resize)).toHaveLength(6);
      expect(end.torn).toBe(false);
    }
  });

  it('returns every complete record and torn: true when the last record is cut anywhere', () => {
    const path = join(tmp, 'stream.bin');
    const w = StreamWriter.open(path);
    w.output(1, ALL_BYTES);
    w.resize(2, 100, 30);
    w.close();
    const lastStart = readFileSync(path).length;
    const w2 = StreamWriter.open(path);
    w2.output(3, Buffer.from('the last record, which a crash cuts short'));
    w2.close();
    const full = readFileSync(path).length;
    const expected = readAll(path).records.slice(0, 2);

    const cut = join(tmp, 'cut.bin');
    for (let size = lastStart + 1; size < full; size++) {
      copyFileSync(path, cut);
      truncateSync(cut, size);
      const { records, end } = readAll(cut, 16);
      expect(records).toEqual(expected);
      expect(end).toEqual({ torn: true, validBytes: lastStart, fileBytes: size, skipped: 0 });
      expect(scanStream(cut)).toMatchObject({ torn: true, validBytes: lastStart, fileBytes: size, lastTUs: 2 });
    }
  });

  it('scans what the stream accounts for: output and input bytes plus the bytes its gaps count', () => {
    const path = join(tmp, 'stream.bin');
    const w = StreamWriter.open(path);
    w.output(1, Buffer.from('12345'));
    w.input(2, Buffer.from('ab'));
    w.resize(3, 100, 40);
    w.gap(4, 1000, 'client buffer full');
    w.output(5, Buffer.from('xyz'));
    w.close();
    expect(scanStream(path)).toMatchObject({ torn: false, outputBytes: 8, accountedBytes: 5 + 2 + 1000 + 3, lastTUs: 5 });
    const again = StreamWriter.open(path);
    expect(again.accountedAtOpen).toBe(1010);
    again.close();
  });

  it('reports a header cut short as torn with no valid bytes', () => {
    const path = join(tmp, 'stream.bin');
    for (let size = 0; size < HEADER_SIZE; size++) {
      writeFileSync(path, streamHeader().subarray(0, size));
      const { records, end } = readAll(path);
      expect(records).toEqual([]);
      expect(end).toEqual({ torn: true, validBytes: 0, fileBytes: size, skipped: 0 });
    }
  });

  it('throws StoreError for a missing file, a foreign file and a newer version', () => {
    expect(() => readStream(join(tmp, 'nope.bin'))).toThrow(StoreError);
    const path = join(tmp, 'stream.bin');
    writeFileSync(path, 'this is not a stream file');
    expect(() => readStream(path)).toThrow(/not an omnish stream file/);
    writeFileSync(path, 'OMX'); // short, but not a prefix of the magic
    expect(() => readStream(path)).toThrow(StoreError);
    const v2 = streamHeader();
    v2[8] = 2;
    writeFileSync(path, v2);
    expect(() => readStream(path)).toThrow(/format version 2/);
  });

  it('ignores reserved header bytes', () => {
    const path = join(tmp, 'stream.bin');
    const head = streamHeader();
    head.fill(0xff, 9);
    writeFileSync(path, Buffer.concat([head, record(RecordKind.Output, 5, Buffer.from('x'))]));
    expect(readAll(path).records).toEqual([{ kind: RecordKind.Output, tUs: 5, data: Buffer.from('x') }]);
  });

  it('skips unknown kinds and short known payloads, and ignores trailing payload bytes', () => {
    const path = join(tmp, 'stream.bin');
    writeFileSync(path, Buffer.concat([
      streamHeader(),
      record(42, 1, Buffer.from('from the future')),
      record(RecordKind.Resize, 2, Buffer.from([0, 80, 0, 24, 9, 9])), // a later version added fields
      record(RecordKind.Resize, 3, Buffer.from([0, 80])), // too short to be a resize
      record(RecordKind.Output, 4, Buffer.alloc(0)),
    ]));
    const { records, end } = readAll(path);
    expect(records).toEqual([
      { kind: RecordKind.Resize, tUs: 2, cols: 80, rows: 24 },
      { kind: RecordKind.Output, tUs: 4, data: Buffer.alloc(0) },
    ]);
    expect(end).toMatchObject({ torn: false, skipped: 2 });
  });

  it('treats a length over the cap as a corrupt tail without allocating it', () => {
    const path = join(tmp, 'stream.bin');
    const bogus = Buffer.alloc(RECORD_HEADER_SIZE);
    writeRecordHeader(bogus, 0, RecordKind.Output, 9, MAX_PAYLOAD + 1);
    const good = record(RecordKind.Output, 1, Buffer.from('ok'));
    writeFileSync(path, Buffer.concat([streamHeader(), good, bogus, Buffer.alloc(MAX_PAYLOAD + 1)]));
    const { records, end } = readAll(path);
    expect(records).toHaveLength(1);
    expect(end).toMatchObject({ torn: true, validBytes: HEADER_SIZE + good.length });
  });

  it('is single-use and knows its end only after the last record', () => {
    const path = join(tmp, 'stream.bin');
    StreamWriter.open(path).close();
    const reader = readStream(path);
    expect(() => reader.end).toThrow(/after reading to the end/);
    expect([...reader]).toEqual([]);
    expect(reader.end).toEqual({ torn: false, validBytes: HEADER_SIZE, fileBytes: HEADER_SIZE, skipped: 0 });
    expect(() => [...reader]).toThrow(/only once/);
  });
});
