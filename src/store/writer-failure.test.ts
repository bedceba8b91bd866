// A full disk cannot be made on demand, so writev (and open) are wrapped to fail when told to.
// test/store-failure.test.ts does the same with a real full and a real read-only file system.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { StoreError } from '../common/errors.js';
import { RecordKind } from './format.js';
import { readStream } from './reader.js';
import { STORE_WRITE_FAILED, StreamWriter, type WriteListener } from './writer.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, writevSync: vi.fn(real.writevSync), openSync: vi.fn(real.openSync) };
});

const enospc = (): never => {
  throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
};
const erofs = (): never => {
  throw Object.assign(new Error("EROFS: read-only file system, open '/x'"), { code: 'EROFS' });
};

let tmp: string;
let path: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(join(tmpdir(), 'omnish-writer-fail-'));
  path = join(tmp, 'stream.bin');
});
afterEach(() => {
  vi.mocked(fs.writevSync).mockReset();
  vi.mocked(fs.openSync).mockReset();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A listener that writes down what it is told, and a clock the test moves. */
function observed(): { listener: WriteListener; events: string[]; clock: { ms: number } } {
  const events: string[] = [];
  return {
    events,
    clock: { ms: 1000 },
    listener: {
      failed: (err) => events.push(`failed ${err.message.replace(path, 'PATH')}`),
      lost: (n) => events.push(`lost ${n}`),
      written: () => events.push('written'),
    },
  };
}

/** Whether this process holds `file` open (from /proc/self/fd). */
function isOpen(file: string): boolean {
  return fs.readdirSync('/proc/self/fd').some((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  });
}

it('turns a failed write into a gap record instead of a corrupt file', () => {
  const w = StreamWriter.open(path);
  w.output(1, Buffer.from('saved '));
  w.flush();
  w.output(2, Buffer.from('lost'));
  w.input(2, Buffer.from('ls'));
  w.resize(2, 80, 24); // not payload the user would miss; not counted
  vi.mocked(fs.writevSync).mockImplementationOnce(enospc);
  expect(() => w.flush()).toThrow(StoreError);
  expect(w.bufferedBytes).toBe(0);
  w.output(3, Buffer.from('again'));
  w.close();

  const records = [...readStream(path)];
  expect(records).toEqual([
    { kind: RecordKind.Output, tUs: 1, data: Buffer.from('saved ') },
    { kind: RecordKind.Gap, tUs: 3, lostBytes: 6, reason: STORE_WRITE_FAILED },
    { kind: RecordKind.Output, tUs: 3, data: Buffer.from('again') },
  ]);
});

it('drops and counts without trying until retryMs has passed, then writes one gap for everything lost', () => {
  const { listener, events, clock } = observed();
  const w = StreamWriter.open(path, { listener, retryMs: 1000, now: () => clock.ms, flushThreshold: 64 });
  w.output(1, Buffer.from('a'.repeat(10)));
  w.flush();
  vi.mocked(fs.writevSync).mockImplementation(enospc);
  w.output(2, Buffer.from('b'.repeat(70))); // over the threshold: written out, and fails without throwing
  expect(w.failing?.message).toMatch(/ENOSPC: no space left on device$/);
  expect(isOpen(path)).toBe(false); // released, so the file system could be remounted
  const tries = vi.mocked(fs.writevSync).mock.calls.length;
  w.output(3, Buffer.from('c'.repeat(70))); // within retryMs: not even tried
  w.input(3, Buffer.from('typed'));
  w.flush();
  expect(vi.mocked(fs.writevSync).mock.calls.length).toBe(tries);
  expect(w.outputBytes).toBe(10); // offsets count recorded bytes only
  vi.mocked(fs.writevSync).mockReset();
  clock.ms += 1000;
  w.output(4, Buffer.from('d'.repeat(5)));
  w.flush();
  expect(w.failing).toBeNull();
  expect(w.outputBytes).toBe(15);
  w.close();

  expect([...readStream(path)]).toEqual([
    { kind: RecordKind.Output, tUs: 1, data: Buffer.from('a'.repeat(10)) },
    { kind: RecordKind.Gap, tUs: 4, lostBytes: 70 + 70 + 5, reason: STORE_WRITE_FAILED },
    { kind: RecordKind.Output, tUs: 4, data: Buffer.from('d'.repeat(5)) },
  ]);
  expect(events).toEqual([
    'written', 'failed cannot write PATH: ENOSPC: no space left on device', 'lost 70', 'lost 70', 'lost 5', 'written',
  ]);
});

it('keeps the count when the write carrying the gap record fails too, and reopens a file it had to close', () => {
  const { listener, events, clock } = observed();
  const w = StreamWriter.open(path, { listener, retryMs: 10, now: () => clock.ms });
  w.output(1, Buffer.from('kept'));
  w.flush();
  vi.mocked(fs.writevSync).mockImplementation(enospc);
  w.output(2, Buffer.from('x'.repeat(100)));
  expect(() => w.flush()).toThrow(/ENOSPC/);
  vi.mocked(fs.writevSync).mockReset();
  // Space came back, but the file system is read-only now: reopening fails.
  vi.mocked(fs.openSync).mockImplementation(erofs);
  clock.ms += 10;
  w.output(3, Buffer.from('y'.repeat(20))); // buffered behind the gap record of the first 100
  expect(() => w.flush()).toThrow(/EROFS: read-only file system$/);
  vi.mocked(fs.openSync).mockReset();
  clock.ms += 10;
  w.output(4, Buffer.from('z'));
  w.flush();
  w.close();

  expect([...readStream(path)]).toEqual([
    { kind: RecordKind.Output, tUs: 1, data: Buffer.from('kept') },
    { kind: RecordKind.Gap, tUs: 4, lostBytes: 120, reason: STORE_WRITE_FAILED },
    { kind: RecordKind.Output, tUs: 4, data: Buffer.from('z') },
  ]);
  expect(events.filter((e) => e.startsWith('lost'))).toEqual(['lost 100', 'lost 20']);
});

it('writes a pending gap last when the stream closes with nothing after it, and says when even that fails', () => {
  const w = StreamWriter.open(path, { retryMs: 60_000 });
  vi.mocked(fs.writevSync).mockImplementationOnce(enospc);
  w.output(1, Buffer.from('lost'));
  expect(() => w.flush()).toThrow(StoreError);
  w.close(); // retried at once although retryMs has not passed
  expect([...readStream(path)]).toEqual([{ kind: RecordKind.Gap, tUs: 1, lostBytes: 4, reason: STORE_WRITE_FAILED }]);

  const other = join(tmp, 'other.bin');
  const v = StreamWriter.open(other);
  vi.mocked(fs.writevSync).mockImplementation(enospc);
  v.output(1, Buffer.from('lost'));
  expect(() => v.close()).toThrow(/cannot write .*ENOSPC/);
  expect(v.closed).toBe(true);
  expect(isOpen(other)).toBe(false);
});
