/**
 * `events.jsonl`: what the daemon learned about a session (command boundaries, failures, ...), one
 * JSON object per line, appended as it happens. Lines are not interpreted here; the records omnish
 * writes and their readers are in records.ts.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '../common/errors.js';

/** Name of the events file inside a session directory. */
export const EVENTS_FILE = 'events.jsonl';

const NEWLINE = 0x0a;

/**
 * Cuts a torn last line (no trailing newline: the writer died mid-append) so the next line does
 * not glue onto it. Searches backward in 64 KiB blocks for the last newline.
 */
function cutTornLine(fd: number, size: number): void {
  const block = Buffer.allocUnsafe(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - block.length);
    const n = readSync(fd, block, 0, end - start, start);
    const nl = block.subarray(0, n).lastIndexOf(NEWLINE);
    if (nl >= 0) {
      ftruncateSync(fd, start + nl + 1);
      return;
    }
    end = start;
  }
  ftruncateSync(fd, 0);
}

/**
 * Appends one event to `<dir>/events.jsonl` (created with mode 0600 if missing), as one line
 * written with one write(2). A torn last line left by a crash is cut off first.
 * @throws StoreError if the file cannot be written; TypeError if `event` does not serialize to JSON.
 */
export function appendEvent(dir: string, event: object): void {
  const line = JSON.stringify(event) as string | undefined;
  if (line === undefined) throw new TypeError('event does not serialize to JSON');
  const path = join(dir, EVENTS_FILE);
  try {
    const fd = openSync(path, 'a+', 0o600);
    try {
      const size = fstatSync(fd).size;
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== NEWLINE) cutTornLine(fd, size);
      }
      // O_APPEND: the position argument is ignored, the line lands at the (possibly cut) end.
      writeSync(fd, `${line}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new StoreError(`cannot append to ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Reads all events of `<dir>/events.jsonl`, oldest first; [] if the file does not exist. A last line
 * without its newline is torn (a crash mid-append) and skipped. Events are not validated beyond
 * being JSON objects.
 * @throws StoreError if the file cannot be read or a complete line is not a JSON object (corruption).
 */
export function readEvents(dir: string): Record<string, unknown>[] {
  const path = join(dir, EVENTS_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StoreError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const lines = text.split('\n');
  lines.pop(); // '' after the final newline, or a torn line
  return lines.map((line, i) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new StoreError(`${path}:${i + 1}: not a JSON object`);
    }
    return value as Record<string, unknown>;
  });
}
