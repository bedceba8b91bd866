import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../common/errors.js';
import { HEADER_SIZE, MAX_PAYLOAD, RECORD_HEADER_SIZE, RecordKind, streamHeader } from './format.js';
import { readStream } from './reader.js';
import { StreamWriter } from './writer.js';

let tmp: string;
let path: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-writer-'));
  path = join(tmp, 'stream.bin');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function outputs(file: string): string {
  return [...readStream(file)].map((r) => (r.kind === RecordKind.Output ? r.data.toString() : `<${r.kind}>`)).join('');
}

describe('StreamWriter', () => {
  it('creates a 0600 file holding just the header', () => {
    const w = StreamWriter.open(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path)).toEqual(streamHeader());
    expect(w.bytesWritten).toBe(HEADER_SIZE);
    w.close();
  });

  it('buffers small records and writes them in large appends', () => {
    const w = StreamWriter.open(path);
    const chunk = Buffer.alloc(4096, 0x61);
    for (let i = 0; i < 10; i++) w.output(i, chunk);
    expect(statSync(path).size).toBe(HEADER_SIZE); // nothing written yet
    expect(w.bufferedBytes).toBe(10 * (RECORD_HEADER_SIZE + 4096));
    for (let i = 10; i < 16; i++) w.output(i, chunk); // crosses 64 KiB
    expect(w.bufferedBytes).toBe(0);
    expect(statSync(path).size).toBe(HEADER_SIZE + 16 * (RECORD_HEADER_SIZE + 4096));
    w.output(16, chunk);
    w.flush();
    expect(w.bufferedBytes).toBe(0);
    expect(w.bytesWritten).toBe(statSync(path).size);
    expect(w.outputBytes).toBe(17 * 4096);
    w.close();
    // The "stored bytes per output byte" figure: header plus 13 bytes per 4 KiB record.
    expect(w.bytesWritten / w.outputBytes).toBeCloseTo(1 + RECORD_HEADER_SIZE / 4096, 3);
  });

  it('copies the caller\'s buffer, so reusing it later does not change what is stored', () => {
    const w = StreamWriter.open(path);
    const buf = Buffer.from('first');
    w.output(1, buf);
    buf.write('XXXXX');
    w.close();
    expect(outputs(path)).toBe('first');
  });

  it('splits data larger than one record and writes records larger than the buffer directly', () => {
    const w = StreamWriter.open(path, { flushThreshold: 1024 });
    w.output(1, Buffer.from('small'));
    const big = Buffer.alloc(MAX_PAYLOAD + 10, 0x62);
    w.output(2, big);
    w.output(3, Buffer.from('after'));
    w.close();
    const records = [...readStream(path)];
    expect(records.map((r) => (r.kind === RecordKind.Output ? r.data.length : -1))).toEqual([5, MAX_PAYLOAD, 10, 5]);
  });

  it('appends to an existing clean file, keeping counters across the reopen', () => {
    const w = StreamWriter.open(path);
    w.output(1, Buffer.from('before '));
    w.close();
    const again = StreamWriter.open(path);
    expect(again.truncatedBytes).toBe(0);
    expect(again.outputBytes).toBe(7);
    expect(again.lastTUs).toBe(1);
    again.output(2, Buffer.from('after'));
    again.close();
    expect(outputs(path)).toBe('before after');
  });

  it('cuts a torn last record before appending, wherever the crash cut it', () => {
    const w = StreamWriter.open(path);
    w.output(1, Buffer.from('kept'));
    w.close();
    const good = statSync(path).size;
    const w2 = StreamWriter.open(path);
    w2.output(2, Buffer.from('torn by a crash'));
    w2.close();
    const full = statSync(path).size;
    const cut = join(tmp, 'cut.bin');
    for (let size = good + 1; size < full; size++) {
      copyFileSync(path, cut);
      truncateSync(cut, size);
      const resumed = StreamWriter.open(cut);
      expect(resumed.truncatedBytes).toBe(size - good);
      expect(resumed.bytesWritten).toBe(good);
      resumed.output(3, Buffer.from('+new'));
      resumed.close();
      const reader = readStream(cut);
      expect([...reader].map((r) => (r.kind === RecordKind.Output ? r.data.toString() : ''))).toEqual(['kept', '+new']);
      expect(reader.end.torn).toBe(false);
    }
  });

  it('rewrites a torn header', () => {
    writeFileSync(path, 'OMSTR');
    const w = StreamWriter.open(path);
    expect(w.truncatedBytes).toBe(5);
    w.output(1, Buffer.from('x'));
    w.close();
    expect(outputs(path)).toBe('x');
  });

  it('refuses, without touching the file, a foreign file or an invalid tail longer than any record', () => {
    writeFileSync(path, 'not ours');
    expect(() => StreamWriter.open(path)).toThrow(StoreError);
    expect(readFileSync(path, 'utf8')).toBe('not ours');

    const junk = Buffer.concat([streamHeader(), Buffer.alloc(RECORD_HEADER_SIZE, 0xff), Buffer.alloc(MAX_PAYLOAD + 1)]);
    writeFileSync(path, junk);
    expect(() => StreamWriter.open(path)).toThrow(/corrupt after byte 16/);
    expect(statSync(path).size).toBe(junk.length);
  });

  it('rejects bad arguments without corrupting what is buffered', () => {
    const w = StreamWriter.open(path);
    w.output(1, Buffer.from('a'));
    expect(() => w.output(-1, Buffer.from('b'))).toThrow(RangeError);
    expect(() => w.output(1.5, Buffer.from('b'))).toThrow(RangeError);
    expect(() => w.resize(2, 70_000, 24)).toThrow(RangeError);
    expect(() => w.gap(2, -1, 'x')).toThrow(RangeError);
    expect(() => w.exit(2, 2 ** 31, null)).toThrow(RangeError);
    w.output(3, Buffer.from('c'));
    w.close();
    expect(outputs(path)).toBe('ac');
  });

  it('keeps a long gap reason to 1 KiB without splitting a character', () => {
    const w = StreamWriter.open(path);
    w.gap(1, 10, 'é'.repeat(600)); // 1200 bytes of UTF-8
    w.close();
    const [gap] = [...readStream(path)];
    expect(gap).toEqual({ kind: RecordKind.Gap, tUs: 1, lostBytes: 10, reason: 'é'.repeat(512) });
  });

  it('is closed once, and refuses records after', () => {
    const w = StreamWriter.open(path);
    w.close();
    w.close();
    expect(w.closed).toBe(true);
    expect(() => w.output(1, Buffer.from('x'))).toThrow(/closed/);
  });
});
