/**
 * Appending to `stream.bin`. The daemon receives output in ~4 KiB chunks; one write(2) per chunk
 * would be its main cost, so records are copied into one buffer and written in large appends: when
 * 64 KiB are buffered, or when the owner calls flush() (it does so periodically, which bounds what
 * a daemon crash can lose to the last flush interval).
 *
 * A failed write (disk full, file system turned read-only, I/O error) never stops the recording:
 * what could not be written is dropped and counted, the file is cut back to its last good size and
 * closed (so an administrator can remount the file system), writes are retried every `retryMs`,
 * and the first record that reaches the disk again is preceded by one gap record counting
 * everything lost, with reason STORE_WRITE_FAILED.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, writeSync, writevSync } from 'node:fs';
import { StoreError } from '../common/errors.js';
import {
  HEADER_SIZE, MAX_PAYLOAD, RECORD_HEADER_SIZE, RecordKind, streamHeader, writeRecordHeader, writeU64,
} from './format.js';
import { scanStream } from './reader.js';

/** Reason of the gap record that counts bytes a failed write dropped. */
export const STORE_WRITE_FAILED = 'store write failed';

/** Told what happens to the writes of one stream (the daemon reports it in `omnish status`). */
export interface WriteListener {
  /** A write (or reopening the file to write) failed; retried after `retryMs`. */
  failed(err: StoreError): void;
  /** `bytes` of output/input payload were dropped and will be counted by the next gap record. */
  lost(bytes: number): void;
  /** A write reached the file. */
  written(): void;
}

export interface StreamWriterOptions {
  /** Write out once this many bytes are buffered, bytes (default 64 KiB). */
  flushThreshold?: number;
  /** After a failed write, for this long (ms) writes are dropped without trying (default 1000). */
  retryMs?: number;
  /** Told of failures, losses and successful writes. */
  listener?: WriteListener;
  /** The clock for `retryMs`, ms (tests pass their own). */
  now?: () => number;
}

/** Longest gap reason kept, bytes of UTF-8. */
const MAX_REASON = 1024;

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

/** Writes every byte of `chunks` at `position`; returns the byte count. writev may write less than asked. */
function writeAllSync(fd: number, chunks: Uint8Array[], position: number): number {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  let done = writevSync(fd, chunks, position);
  let skip = done;
  for (const chunk of chunks) {
    if (done === total) break;
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    for (let o = skip; o < chunk.length; ) {
      const n = writeSync(fd, chunk, o, chunk.length - o, position + done);
      o += n;
      done += n;
    }
    skip = 0;
  }
  return total;
}

function checkInt(name: string, value: number | null, min: number, max: number): void {
  if (value !== null && !(Number.isInteger(value) && value >= min && value <= max)) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/** "ENOSPC: no space left on device" from a Node fs error (its code and description, no syscall). */
function errnoText(err: unknown): string {
  const m = err instanceof Error ? /^(E[A-Z]+): ([^,]+)/.exec(err.message) : null;
  return m ? `${m[1]}: ${m[2]}` : (err as Error).message;
}

/** Appends records to one stream file. Not safe to share between processes: one writer per session. */
export class StreamWriter {
  /** Null once closed, and while suspended after a failed write. */
  private fd: number | null;
  private isClosed = false;
  private readonly buf: Buffer;
  private len = 0;
  /** Output/input payload bytes now in `buf`: what a failed write loses. */
  private pendingIo = 0;
  /** Output payload bytes now in `buf` (taken off `outputTotal` if they are lost). */
  private pendingOutput = 0;
  /** `lostBytes` of the gap records now in `buf`: counted again if they are lost too. */
  private pendingGap = 0;
  /** Output/input payload bytes lost to failed writes and not yet recorded as a gap. */
  private lostIo = 0;
  /** The last write failure, until a write succeeds again. */
  private failure: StoreError | null = null;
  /** While failing: no write is tried before this time (ms, `now()`). */
  private retryAt = 0;
  private readonly retryMs: number;
  private readonly listener: WriteListener | undefined;
  private readonly now: () => number;

  private constructor(
    readonly path: string,
    fd: number,
    private size: number,
    private outputTotal: number,
    private lastTime: number,
    /** Bytes of a torn tail cut off when the file was reopened (0 for a new or clean file). */
    readonly truncatedBytes: number,
    /**
     * What the file accounted for when it was opened (StreamScan.accountedBytes: output and input
     * payload bytes plus the lostBytes of gap records; 0 for a new file).
     */
    readonly accountedAtOpen: number,
    private readonly threshold: number,
    options: StreamWriterOptions,
  ) {
    this.fd = fd;
    this.buf = Buffer.allocUnsafe(Math.max(4096, threshold * 2));
    this.retryMs = options.retryMs ?? 1000;
    this.listener = options.listener;
    this.now = options.now ?? Date.now;
  }

  /**
   * Opens `path` for appending: creates it (mode 0600) with a header if missing; otherwise checks
   * it, cuts off a torn last record (left by a crash mid-write) and appends after the last complete
   * one. A torn header is rewritten.
   * @throws StoreError if the file cannot be created or opened, is not a stream file, or its invalid
   *   tail is longer than one record could be (corruption, not a torn write: nothing is truncated).
   */
  static open(path: string, options: StreamWriterOptions = {}): StreamWriter {
    const threshold = options.flushThreshold ?? 64 * 1024;
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeAllSync(fd, [streamHeader()], 0);
      } catch (err) {
        closeSync(fd);
        throw new StoreError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
      }
      return new StreamWriter(path, fd, HEADER_SIZE, 0, 0, 0, 0, threshold, options);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      if (!isErrno(err, 'EEXIST')) throw new StoreError(`cannot create ${path}: ${(err as Error).message}`, { cause: err });
    }
    const scan = scanStream(path);
    const tail = scan.fileBytes - scan.validBytes;
    if (scan.validBytes > 0 && tail > RECORD_HEADER_SIZE + MAX_PAYLOAD) {
      throw new StoreError(`${path} is corrupt after byte ${scan.validBytes}; not truncating ${tail} bytes`);
    }
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch (err) {
      throw new StoreError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      let size = scan.validBytes;
      if (scan.torn) ftruncateSync(fd, size);
      if (size === 0) size = writeAllSync(fd, [streamHeader()], 0);
      return new StreamWriter(path, fd, size, scan.outputBytes, scan.lastTUs, tail, scan.accountedBytes, threshold, options);
    } catch (err) {
      closeSync(fd);
      throw new StoreError(`cannot repair ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Bytes of the file on disk, header included (not counting what is still buffered). */
  get bytesWritten(): number {
    return this.size;
  }
  /** Bytes buffered in memory, waiting for the next flush. */
  get bufferedBytes(): number {
    return this.len;
  }
  /**
   * Payload bytes of all output records in the file or buffered (including those before a reopen):
   * the offset of the next output byte in the session's output byte stream. Output lost to a
   * failed write is not counted (offsets count recorded bytes only).
   */
  get outputBytes(): number {
    return this.outputTotal;
  }
  /** The last write failure while writes keep failing; null when the last write succeeded. */
  get failing(): StoreError | null {
    return this.failure;
  }
  /** Output/input bytes lost to failed writes that no gap record in the file counts yet. */
  get unrecordedLoss(): number {
    return this.lostIo;
  }
  /** tUs of the newest record, µs since session start (0 if none). */
  get lastTUs(): number {
    return this.lastTime;
  }
  get closed(): boolean {
    return this.isClosed;
  }

  /** Records pty output (`data` is copied; larger than 1 MiB is split into several records). tUs: µs since session start. */
  output(tUs: number, data: Uint8Array): void {
    this.io(RecordKind.Output, tUs, data);
    this.outputTotal += data.length;
  }

  /** Records typed input, like output(). */
  input(tUs: number, data: Uint8Array): void {
    this.io(RecordKind.Input, tUs, data);
  }

  /** Records a terminal size change (cols, rows: 0–65535). */
  resize(tUs: number, cols: number, rows: number): void {
    checkInt('cols', cols, 0, 0xffff);
    checkInt('rows', rows, 0, 0xffff);
    const p = Buffer.allocUnsafe(4);
    p.writeUInt16BE(cols, 0);
    p.writeUInt16BE(rows, 2);
    this.append(RecordKind.Resize, tUs, p, 0);
  }

  /**
   * Records that `lostBytes` bytes were dropped before this point; `reason` is kept up to 1 KiB.
   * Pending losses of failed writes are merged into a gap with reason STORE_WRITE_FAILED.
   */
  gap(tUs: number, lostBytes: number, reason: string): void {
    this.gapRecord(tUs, lostBytes, reason);
  }

  private gapRecord(tUs: number, lostBytes: number, reason: string): void {
    checkInt('lostBytes', lostBytes, 0, Number.MAX_SAFE_INTEGER);
    const text = Buffer.from(reason, 'utf8');
    let cut = Math.min(text.length, MAX_REASON);
    while (cut < text.length && ((text[cut] ?? 0) & 0xc0) === 0x80) cut--; // not inside a UTF-8 sequence
    const p = Buffer.allocUnsafe(8 + cut);
    writeU64(p, lostBytes, 0);
    text.copy(p, 8, 0, cut);
    this.append(RecordKind.Gap, tUs, p, 0, lostBytes);
  }

  /** Records the shell's exit: exit status, or the signal that killed it (null = none). */
  exit(tUs: number, exitCode: number | null, signal: number | null): void {
    checkInt('exitCode', exitCode, -0x8000_0000, 0x7fff_ffff);
    checkInt('signal', signal, -0x8000_0000, 0x7fff_ffff);
    const p = Buffer.allocUnsafe(8);
    p.writeInt32BE(exitCode ?? -1, 0);
    p.writeInt32BE(signal ?? -1, 4);
    this.append(RecordKind.Exit, tUs, p, 0);
  }

  /**
   * Writes everything buffered, synchronously. On failure the buffered records are dropped, the file
   * is cut back to its last good size, and the next record is preceded by a gap record that counts
   * the lost output/input bytes, so a full disk leaves a visible hole rather than a corrupt file.
   * Within `retryMs` of a failure nothing is tried: what is buffered is dropped and counted.
   * @throws StoreError when a write was tried and failed (records themselves never throw for that).
   */
  flush(): void {
    if (this.len > 0) this.writeOut([this.buf.subarray(0, this.len)], false);
  }

  /**
   * Flushes (trying even within `retryMs` of a failure), fsyncs (once per session, so an ended
   * session survives a power cut) and closes. Idempotent.
   * @throws StoreError if the last records or the sync failed; the file is closed anyway.
   */
  close(): void {
    if (this.isClosed) return;
    try {
      this.retryAt = 0;
      if (this.lostIo > 0) {
        // No record follows to carry the gap: it goes last.
        const lost = this.lostIo;
        this.lostIo = 0;
        this.gapRecord(this.lastTime, lost, STORE_WRITE_FAILED);
      }
      if (this.len > 0) this.writeOut([this.buf.subarray(0, this.len)], true);
      if (this.fd !== null) fsyncSync(this.fd);
    } catch (err) {
      throw err instanceof StoreError ? err : new StoreError(`cannot sync ${this.path}: ${(err as Error).message}`, { cause: err });
    } finally {
      this.isClosed = true;
      if (this.fd !== null) closeSync(this.fd);
      this.fd = null;
    }
  }

  private io(kind: number, tUs: number, data: Uint8Array): void {
    for (let o = 0; o < data.length; o += MAX_PAYLOAD) {
      const part = data.subarray(o, o + MAX_PAYLOAD);
      this.append(kind, tUs, part, part.length);
    }
  }

  /** Buffers one record (writing out when the buffer is full). `gapBytes`: lostBytes of a gap record. */
  private append(kind: number, tUs: number, payload: Uint8Array, ioBytes: number, gapBytes = 0): void {
    if (this.isClosed) throw new Error(`StreamWriter for ${this.path} is closed`);
    if (!(Number.isSafeInteger(tUs) && tUs >= 0)) throw new RangeError(`tUs must be a non-negative integer, got ${tUs}`);
    if (this.lostIo > 0) {
      const lost = this.lostIo;
      this.lostIo = 0;
      this.gapRecord(tUs, lost, STORE_WRITE_FAILED);
    }
    this.lastTime = tUs;
    this.pendingIo += ioBytes;
    this.pendingGap += gapBytes;
    if (kind === RecordKind.Output) this.pendingOutput += ioBytes;
    const total = RECORD_HEADER_SIZE + payload.length;
    if (this.len + total <= this.buf.length) {
      writeRecordHeader(this.buf, this.len, kind, tUs, payload.length);
      this.buf.set(payload, this.len + RECORD_HEADER_SIZE);
      this.len += total;
      if (this.len >= this.threshold) this.writeOutQuietly([this.buf.subarray(0, this.len)]);
      return;
    }
    // Does not fit: write the buffer and this record together, without copying the payload.
    const head = Buffer.allocUnsafe(RECORD_HEADER_SIZE);
    writeRecordHeader(head, 0, kind, tUs, payload.length);
    this.writeOutQuietly([this.buf.subarray(0, this.len), head, payload]);
  }

  /** writeOut for records: a failure is already counted and reported; the record call goes on. */
  private writeOutQuietly(chunks: Uint8Array[]): void {
    try {
      this.writeOut(chunks, false);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
    }
  }

  /**
   * Writes `chunks` (the pending records) at the end of the file, reopening it if a failure closed
   * it. On failure, or within `retryMs` of the last one (unless `force`), drops them and counts them.
   * @throws StoreError when the write was tried and failed.
   */
  private writeOut(chunks: Uint8Array[], force: boolean): void {
    try {
      if (this.failure && !force && this.now() < this.retryAt) {
        this.drop();
        return;
      }
      try {
        this.fd ??= this.reopen();
        // Explicit positions (not O_APPEND): after a partial write the next one overwrites the debris.
        this.size += writeAllSync(this.fd, chunks, this.size);
      } catch (err) {
        const failure = new StoreError(`cannot write ${this.path}: ${errnoText(err)}`, { cause: err });
        this.suspend();
        this.failure = failure;
        this.retryAt = this.now() + this.retryMs;
        this.listener?.failed(failure);
        this.drop();
        throw failure;
      }
      this.failure = null;
      this.listener?.written();
    } finally {
      this.len = 0;
      this.pendingIo = 0;
      this.pendingOutput = 0;
      this.pendingGap = 0;
    }
  }

  /** The pending records are lost: count them for the next gap record and take them off the offsets. */
  private drop(): void {
    this.lostIo += this.pendingIo + this.pendingGap;
    this.outputTotal -= this.pendingOutput;
    if (this.pendingIo > 0) this.listener?.lost(this.pendingIo);
  }

  /**
   * After a failure: cut the file back to its last good size and close it. Holding it open would
   * keep the file system busy (`mount -o remount,ro` refuses while a file is open for writing).
   */
  private suspend(): void {
    const fd = this.fd;
    if (fd === null) return;
    this.fd = null;
    try {
      ftruncateSync(fd, this.size);
    } catch {
      // Best effort: reopen() cuts the debris off before the next write.
    }
    closeSync(fd);
  }

  /** Opens the file again after a failure, cut back to the last good size. */
  private reopen(): number {
    const fd = openSync(this.path, 'r+');
    try {
      const { size } = fstatSync(fd);
      if (size < this.size) throw new Error(`it is shorter (${size} bytes) than what was written (${this.size} bytes)`);
      if (size > this.size) ftruncateSync(fd, this.size);
      return fd;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }
}
