/**
 * The byte layout of `stream.bin` (drawn in docs/store-format.md). Shared by the writer, the reader
 * and the scanner so the three cannot disagree.
 *
 * ```
 * header  (16 bytes, once)   "OMSTREAM" | version u8 = 1 | 7 reserved bytes (written 0, ignored on read)
 * record  (13 + length)      kind u8 | tUs u64 BE | length u32 BE | payload (length bytes)
 * ```
 *
 * Record kinds are never renumbered; a retired kind stays here as a comment. Adding a kind or
 * appending fields to a payload does not change STREAM_VERSION (readers skip unknown kinds and
 * ignore trailing payload bytes); anything else does: bump STREAM_VERSION if this changes.
 */
import { StoreError } from '../common/errors.js';

/** First 8 bytes of every stream file. */
export const STREAM_MAGIC = Buffer.from('OMSTREAM', 'latin1');
/** Format version written in byte 8 of the header. */
export const STREAM_VERSION = 1;
/** Header size in bytes: magic (8) + version (1) + reserved (7). */
export const HEADER_SIZE = 16;
/** Record header size in bytes: kind (1) + tUs (8) + length (4). */
export const RECORD_HEADER_SIZE = 13;
/**
 * Largest payload of one record, bytes (1 MiB). Writers split longer output/input into several
 * records; readers treat a larger length as a corrupt tail. The cap bounds what a reader allocates
 * for one record and what a torn tail can be.
 */
export const MAX_PAYLOAD = 1 << 20;

/** Record kinds (the `kind` byte). */
export const RecordKind = {
  /** Bytes the shell's pty produced (what the terminal showed). */
  Output: 1,
  /** Bytes the user typed (only when input recording is on). */
  Input: 2,
  /** Terminal size changed. Payload: cols u16 BE, rows u16 BE. */
  Resize: 3,
  /** Data was lost. Payload: lostBytes u64 BE, then a UTF-8 reason. */
  Gap: 4,
  /** The shell exited. Payload: exitCode i32 BE, signal i32 BE (-1 = none). */
  Exit: 5,
} as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** One decoded record. `tUs` is always µs since session start (the client's clock). */
export type StreamRecord =
  | { kind: typeof RecordKind.Output; tUs: number; /** Raw pty bytes. */ data: Buffer }
  | { kind: typeof RecordKind.Input; tUs: number; /** Raw typed bytes. */ data: Buffer }
  | { kind: typeof RecordKind.Resize; tUs: number; /** Columns. */ cols: number; /** Rows. */ rows: number }
  | { kind: typeof RecordKind.Gap; tUs: number; /** Bytes dropped before this point. */ lostBytes: number; reason: string }
  | { kind: typeof RecordKind.Exit; tUs: number; /** Exit status, null if killed. */ exitCode: number | null; /** Signal number, null if none. */ signal: number | null };

/** Reads the u64 BE at `off` as a number (exact below 2^53, which is 285 years of µs). */
export function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32BE(off) * 0x1_0000_0000 + buf.readUInt32BE(off + 4);
}

/** Writes a non-negative safe integer as u64 BE at `off`; two u32 halves avoid a BigInt per record. */
export function writeU64(buf: Buffer, value: number, off: number): void {
  buf.writeUInt32BE(Math.floor(value / 0x1_0000_0000), off);
  buf.writeUInt32BE(value >>> 0, off + 4);
}

/** Writes a record header (kind, tUs, length) at `off`. */
export function writeRecordHeader(buf: Buffer, off: number, kind: number, tUs: number, length: number): void {
  buf[off] = kind;
  writeU64(buf, tUs, off + 1);
  buf.writeUInt32BE(length, off + 9);
}

/** The 16-byte header of a new stream file. */
export function streamHeader(): Buffer {
  const head = Buffer.alloc(HEADER_SIZE);
  STREAM_MAGIC.copy(head, 0);
  head[8] = STREAM_VERSION;
  return head;
}

/**
 * Classifies the first bytes of a file (`head` holds up to HEADER_SIZE bytes, fewer if the file is
 * shorter): 'ok' for a full valid header, 'torn' for a prefix of one (the writer died while creating
 * the file; an empty file counts).
 * @throws StoreError when the bytes are not a stream header at all or name an unsupported version.
 */
export function checkHeader(head: Buffer, path: string): 'ok' | 'torn' {
  const magicLen = Math.min(head.length, STREAM_MAGIC.length);
  if (!head.subarray(0, magicLen).equals(STREAM_MAGIC.subarray(0, magicLen))) {
    throw new StoreError(`${path} is not an omnish stream file (bad magic)`);
  }
  const version = head[8];
  if (version !== undefined && version !== STREAM_VERSION) {
    throw new StoreError(`${path} has stream format version ${version}; this omnish reads version ${STREAM_VERSION}`);
  }
  return head.length >= HEADER_SIZE ? 'ok' : 'torn';
}

/**
 * Decodes the payload of a known kind. Returns null for an unknown kind or a payload shorter than
 * the kind's fixed fields; extra trailing bytes are ignored (room for fields added later).
 * Output/input data is copied, so the caller may reuse `payload`'s memory, unless `copy` is false:
 * then it is a view of `payload`.
 */
export function decodeRecord(kind: number, tUs: number, payload: Buffer, copy = true): StreamRecord | null {
  switch (kind) {
    case RecordKind.Output:
    case RecordKind.Input:
      return { kind, tUs, data: copy ? Buffer.from(payload) : payload };
    case RecordKind.Resize:
      if (payload.length < 4) return null;
      return { kind, tUs, cols: payload.readUInt16BE(0), rows: payload.readUInt16BE(2) };
    case RecordKind.Gap:
      if (payload.length < 8) return null;
      return { kind, tUs, lostBytes: readU64(payload, 0), reason: payload.toString('utf8', 8) };
    case RecordKind.Exit: {
      if (payload.length < 8) return null;
      const code = payload.readInt32BE(0);
      const signal = payload.readInt32BE(4);
      return { kind, tUs, exitCode: code === -1 ? null : code, signal: signal === -1 ? null : signal };
    }
    default:
      return null;
  }
}
