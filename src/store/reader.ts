/**
 * Reading `stream.bin`: a chunked record iterator for replay and export, and a header-only scan the
 * writer uses to find where a crashed writer left off. Neither throws for a torn tail: a crash may
 * cut the last record anywhere, and everything before it is still good.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StoreError } from '../common/errors.js';
import {
  HEADER_SIZE, MAX_PAYLOAD, RECORD_HEADER_SIZE, RecordKind, checkHeader, decodeRecord, readU64,
  type StreamRecord,
} from './format.js';

/** How a stream file ended, known once it has been read to the end. */
export interface StreamEnd {
  /**
   * True when the header is incomplete, or bytes after `validBytes` do not form a complete record
   * (a crash mid-write, or a length field that cannot be right).
   */
  torn: boolean;
  /** Bytes from the start of the file through the last complete record, header included (0 if the header is torn). */
  validBytes: number;
  /** File size in bytes when reading started; the reader never reads past it. */
  fileBytes: number;
  /** Complete records that were skipped: unknown kinds, or known kinds with a short payload. */
  skipped: number;
}

/** What the header-only scan learns besides how the file ends. */
export interface StreamScan extends Omit<StreamEnd, 'skipped'> {
  /** Payload bytes of all output records, bytes. */
  outputBytes: number;
  /**
   * What the stream accounts for of what its clients sent: output and input payload bytes plus
   * the `lostBytes` of gap records (a client's SessionStart.sentBytes counts the same way).
   */
  accountedBytes: number;
  /** tUs of the last complete record, µs since session start (0 if none). */
  lastTUs: number;
}

export interface StreamReaderOptions {
  /** Bytes read per read(2) call (default 1 MiB). Grows on its own for a record larger than this. */
  chunkSize?: number;
}

function openForRead(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (err) {
    throw new StoreError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads up to HEADER_SIZE bytes at the start of `fd`. */
function readHead(fd: number, size: number): Buffer {
  const head = Buffer.alloc(Math.min(size, HEADER_SIZE));
  let got = 0;
  while (got < head.length) {
    const n = readSync(fd, head, got, head.length - got, got);
    if (n === 0) return head.subarray(0, got);
    got += n;
  }
  return head;
}

/**
 * Iterates the records of one stream file, reading it in chunks so a file of hundreds of MB never
 * sits in memory whole. Iterate once (for...of), then read `end`. The reader sees the file as it was
 * when iteration started: reading a live session is safe, its newest record may just look torn.
 */
export class StreamReader implements Iterable<StreamRecord> {
  private result: StreamEnd | null = null;
  private started = false;
  private readonly chunkSize: number;

  /**
   * Checks the header now so that a missing or foreign file fails here, not mid-iteration.
   * @throws StoreError when the file is missing, unreadable, not a stream file, or of another version.
   */
  constructor(readonly path: string, options: StreamReaderOptions = {}) {
    this.chunkSize = Math.max(1, options.chunkSize ?? 1 << 20);
    const fd = openForRead(path);
    try {
      checkHeader(readHead(fd, fstatSync(fd).size), path);
    } finally {
      closeSync(fd);
    }
  }

  /** How the file ended. @throws Error if iteration has not reached the end yet (a bug in the caller). */
  get end(): StreamEnd {
    if (!this.result) throw new Error('StreamReader.end is known only after reading to the end');
    return this.result;
  }

  *[Symbol.iterator](): Iterator<StreamRecord> {
    if (this.started) throw new Error('a StreamReader can be iterated only once');
    this.started = true;
    const fd = openForRead(this.path);
    try {
      const size = fstatSync(fd).size;
      if (checkHeader(readHead(fd, size), this.path) === 'torn') {
        this.result = { torn: true, validBytes: 0, fileBytes: size, skipped: 0 };
        return;
      }
      // buf[start, end) holds the file bytes at [off, filePos).
      let buf = Buffer.allocUnsafe(this.chunkSize);
      let start = 0;
      let end = 0;
      let off = HEADER_SIZE;
      let filePos = HEADER_SIZE;
      let skipped = 0;
      const fill = (need: number): boolean => {
        if (end - start >= need) return true;
        buf.copy(buf, 0, start, end);
        end -= start;
        start = 0;
        if (buf.length < need) {
          const bigger = Buffer.allocUnsafe(need);
          buf.copy(bigger, 0, 0, end);
          buf = bigger;
        }
        while (end < need) {
          const n = readSync(fd, buf, end, Math.min(buf.length - end, size - filePos), filePos);
          if (n === 0) return false; // the file shrank under us: treat like a torn tail
          end += n;
          filePos += n;
        }
        return true;
      };
      for (;;) {
        if (off === size) break;
        if (size - off < RECORD_HEADER_SIZE || !fill(RECORD_HEADER_SIZE)) break;
        const kind = buf[start] ?? 0;
        const tUs = readU64(buf, start + 1);
        const length = buf.readUInt32BE(start + 9);
        const total = RECORD_HEADER_SIZE + length;
        if (length > MAX_PAYLOAD || off + total > size || !fill(total)) break;
        const record = decodeRecord(kind, tUs, buf.subarray(start + RECORD_HEADER_SIZE, start + total));
        start += total;
        off += total;
        if (record) yield record;
        else skipped++;
      }
      this.result = { torn: off !== size, validBytes: off, fileBytes: size, skipped };
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Opens a stream file for reading. See StreamReader.
 * @throws StoreError when the file is missing, unreadable, not a stream file, or of another version.
 */
export function readStream(path: string, options?: StreamReaderOptions): StreamReader {
  return new StreamReader(path, options);
}

/**
 * Walks the record headers of a stream file without reading payloads (one pread per record, two
 * for a gap record), to find the end of the last complete record and count output bytes. Used when a writer reopens a
 * session after a daemon restart.
 * @throws StoreError when the file is missing, unreadable, not a stream file, or of another version.
 */
export function scanStream(path: string): StreamScan {
  const fd = openForRead(path);
  try {
    const size = fstatSync(fd).size;
    if (checkHeader(readHead(fd, size), path) === 'torn') {
      return { torn: true, validBytes: 0, fileBytes: size, outputBytes: 0, accountedBytes: 0, lastTUs: 0 };
    }
    const head = Buffer.alloc(RECORD_HEADER_SIZE);
    const lost = Buffer.alloc(8);
    let off = HEADER_SIZE;
    let outputBytes = 0;
    let accountedBytes = 0;
    let lastTUs = 0;
    while (size - off >= RECORD_HEADER_SIZE) {
      if (readSync(fd, head, 0, RECORD_HEADER_SIZE, off) < RECORD_HEADER_SIZE) break;
      const length = head.readUInt32BE(9);
      if (length > MAX_PAYLOAD || off + RECORD_HEADER_SIZE + length > size) break;
      if (head[0] === RecordKind.Output) outputBytes += length;
      if (head[0] === RecordKind.Output || head[0] === RecordKind.Input) accountedBytes += length;
      // A gap's lostBytes is the first 8 bytes of its payload: one more pread, for gaps only.
      if (head[0] === RecordKind.Gap && length >= 8 && readSync(fd, lost, 0, 8, off + RECORD_HEADER_SIZE) === 8) accountedBytes += readU64(lost, 0);
      lastTUs = readU64(head, 1);
      off += RECORD_HEADER_SIZE + length;
    }
    return { torn: off !== size, validBytes: off, fileBytes: size, outputBytes, accountedBytes, lastTUs };
  } finally {
    closeSync(fd);
  }
}
