/**
 * Small synchronous file helpers for rewriting a stream (src/store/trim.ts): positional reads and
 * writes that loop until done, since read(2) and write(2) may move fewer bytes than asked.
 */
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

/** Reads up to `length` bytes at file offset `position` into `buf`; fewer only at the end of the file. */
export function pread(fd: number, buf: Buffer, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Writes all of `data` at file offset `at`. */
export function writeAll(fd: number, data: Buffer, at: number): void {
  for (let o = 0; o < data.length; ) o += writeSync(fd, data, o, data.length - o, at + o);
}

/** Copies bytes [from, to) of `src` to the end of `dst` (at `at`), 1 MiB at a time; returns the new end. */
export function copyRange(src: number, dst: number, from: number, to: number, at: number): number {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let off = from; off < to; ) {
    const n = pread(src, buf, Math.min(buf.length, to - off), off);
    if (n === 0) throw new Error('the file shrank while being copied');
    writeAll(dst, buf.subarray(0, n), at);
    at += n;
    off += n;
  }
  return at;
}

/** Creates `path` (0600), lets `write` fill it and fsyncs it, so a rename that follows publishes whole bytes. */
export function writeDurably(path: string, write: (fd: number) => void): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    write(fd);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
