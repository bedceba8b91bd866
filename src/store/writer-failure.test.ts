// A full disk cannot be made on demand, so writev is wrapped to fail once when told to.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { StoreError } from '../common/errors.js';
import { RecordKind } from './format.js';
import { readStream } from './reader.js';
import { StreamWriter } from './writer.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, writevSync: vi.fn(real.writevSync) };
});

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(join(tmpdir(), 'omnish-writer-fail-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

it('turns a failed write into a gap record instead of a corrupt file', () => {
  const path = join(tmp, 'stream.bin');
  const w = StreamWriter.open(path);
  w.output(1, Buffer.from('saved '));
  w.flush();
  w.output(2, Buffer.from('lost'));
  w.input(2, Buffer.from('ls'));
  w.resize(2, 80, 24); // not payload the user would miss; not counted
  vi.mocked(fs.writevSync).mockImplementationOnce(() => {
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  });
  expect(() => w.flush()).toThrow(StoreError);
  expect(w.bufferedBytes).toBe(0);
  w.output(3, Buffer.from('again'));
  w.close();

  const records = [...readStream(path)];
  expect(records).toEqual([
    { kind: RecordKind.Output, tUs: 1, data: Buffer.from('saved ') },
    { kind: RecordKind.Gap, tUs: 3, lostBytes: 6, reason: 'store write failed' },
    { kind: RecordKind.Output, tUs: 3, data: Buffer.from('again') },
  ]);
});
