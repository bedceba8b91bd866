/**
 * Frame encoder and streaming decoder for the format drawn in messages.ts. Pure: no I/O.
 */
import { Packr } from 'msgpackr';
import { ProtocolError } from './errors.js';
import {
  FRAME_MAGIC,
  HEADER_BYTES,
  MAX_PAYLOAD_BYTES,
  MessageType,
  isClientCode,
  messageName,
  type Message,
  type MessageName,
} from './messages.js';
import { checkPlainPayload } from './plain.js';
import { validatePayload } from './schema.js';

/**
 * Plain MessagePack: maps stay maps (no msgpackr "records" extension, which is stateful and not
 * portable), fixmaps for small maps, 64-bit integers decode to numbers (all our numbers are < 2^53).
 */
const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, int64AsType: 'number' });

const hex = (code: number): string => `0x${code.toString(16).padStart(2, '0')}`;

/**
 * Encodes one message as a complete frame.
 * The message is validated first, so a sender cannot put a frame on the wire that the peer rejects.
 * @returns a new Buffer: 7 header bytes + MessagePack payload
 * @throws ProtocolError if the message does not match its schema (INVALID), its payload exceeds
 *   MAX_PAYLOAD_BYTES (TOO_LARGE), or a client message is not plain MessagePack within
 *   LIMITS.maxValues and LIMITS.maxNesting (BAD_MSGPACK, see plain.ts)
 */
export function encodeFrame(msg: Message): Buffer {
  const code = MessageType[msg.type];
  if (code === undefined) throw new ProtocolError('UNKNOWN_TYPE', `cannot encode message type ${String(msg.type)}`);
  // msgpackr returns a view of its reusable scratch buffer: copy it into the frame right away.
  const payload = packr.pack(validatePayload(msg.type, msg));
  if (payload.length > MAX_PAYLOAD_BYTES) {
    const what = `${msg.type} payload is ${payload.length} bytes`;
    throw new ProtocolError('TOO_LARGE', `${what}, over the ${MAX_PAYLOAD_BYTES}-byte cap`);
  }
  if (isClientCode(code)) checkPlainPayload(payload, msg.type); // what the daemon would refuse
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  frame.writeUInt16BE(FRAME_MAGIC, 0);
  frame.writeUInt32BE(payload.length, 2);
  frame[6] = code;
  payload.copy(frame, HEADER_BYTES);
  return frame;
}

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * What a frame of a type this decoder does not accept means: 'throw' a ProtocolError
   * (UNKNOWN_TYPE, as soon as the header arrives) or 'skip' its payload silently. The daemon
   * throws; the client skips, so a newer daemon may add messages. Default 'throw'.
   */
  onUnknown?: 'throw' | 'skip';
  /**
   * Who writes the stream: 'client' accepts only client→daemon codes (0x01…0x7f), 'daemon' only
   * daemon→client codes (0x81…0xff); the others count as unknown. Default: accept every known code.
   */
  from?: 'client' | 'daemon';
  /** Payload cap in bytes; at most MAX_PAYLOAD_BYTES (the default). */
  maxPayloadBytes?: number;
  /**
   * Payload cap in bytes of the first frame of the stream only (at most maxPayloadBytes, the
   * default). The daemon sets MAX_HELLO_PAYLOAD_BYTES: the first frame must be a small Hello, and a
   * peer that has not authenticated must not make it buffer megabytes.
   */
  firstFrameMaxPayloadBytes?: number;
}

/**
 * Streaming decoder: feed it chunks as they arrive, get whole messages back.
 *
 * Chunks are kept in a list, never concatenated; a payload that lies within one chunk is decoded
 * in place, one spread over several chunks is copied once. Decoded `IoData.data` may therefore be
 * a view into a pushed chunk: do not modify chunks after pushing them.
 * After a ProtocolError the decoder is dead (it does not resynchronise); drop the connection.
 */
export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  /** Read position in chunks[0]. */
  private offset = 0;
  /** Unconsumed bytes across all chunks. */
  private buffered = 0;
  /** Header of the frame whose payload we wait for, once its 7 header bytes are consumed. */
  private pending: { code: number; name: MessageName | undefined; length: number } | null = null;
  private failed: ProtocolError | null = null;
  private readonly onUnknown: 'throw' | 'skip';
  private readonly from: 'client' | 'daemon' | undefined;
  private readonly maxPayload: number;
  private readonly firstMaxPayload: number;
  /** Frame headers consumed so far (the first frame may have its own cap). */
  private frames = 0;

  constructor(options: FrameDecoderOptions = {}) {
    this.onUnknown = options.onUnknown ?? 'throw';
    this.from = options.from;
    this.maxPayload = Math.min(options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES);
    this.firstMaxPayload = Math.min(options.firstFrameMaxPayloadBytes ?? this.maxPayload, this.maxPayload);
  }

  /** Bytes received but not yet part of a decoded (or skipped) frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Adds a chunk of the stream and returns the messages it completes, in order (often none).
   * @throws ProtocolError on bad magic, a length over the cap (before the payload is buffered), an
   *   unknown type with onUnknown 'throw', invalid MessagePack (for a client's frame also: not plain,
   *   see plain.ts) or a schema violation. Messages
   *   decoded from this chunk before the bad frame are in the error's `decoded`.
   */
  push(chunk: Buffer): Message[] {
    if (this.failed) {
      throw new ProtocolError('DECODER_FAILED', `stream already failed: ${this.failed.message}`, { cause: this.failed });
    }
    const out: Message[] = [];
    if (chunk.length === 0) return out;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      this.drain(out);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err; // a bug, not the peer's fault
      this.failed = new ProtocolError(err.code, err.message, { cause: err.cause, decoded: out });
      throw this.failed;
    }
    return out;
  }

  /**
   * Declares the end of the stream. A clean end (between frames) returns nothing.
   * @throws ProtocolError (TRUNCATED) if bytes of an incomplete frame remain
   */
  end(): void {
    if (this.failed || (this.buffered === 0 && !this.pending)) return;
    const p = this.pending;
    const what = p
      ? `${p.name ?? hex(p.code)} frame: ${this.buffered} of ${p.length} payload bytes`
      : `frame header: ${this.buffered} of ${HEADER_BYTES} bytes`;
    this.failed = new ProtocolError('TRUNCATED', `stream ended inside a ${what}`);
    throw this.failed;
  }

  private drain(out: Message[]): void {
    for (;;) {
      if (!this.pending && !this.readHeader()) return;
      const p = this.pending!;
      if (!p.name || !this.accepts(p.code)) {
        // Skipping an unknown type (onUnknown 'skip'): discard bytes as they come, never buffer them.
        const n = Math.min(p.length, this.buffered);
        this.discard(n);
        p.length -= n;
        if (p.length > 0) return;
        this.pending = null;
        continue;
      }
      if (this.buffered < p.length) return;
      this.pending = null;
      const payload = this.take(p.length);
      // Most frames are output, in the one layout every encoder writes: read it in place.
      const io = p.code === MessageType.IoData ? readIoData(payload) : undefined;
      if (io) {
        out.push({ type: 'IoData', ...validatePayload('IoData', io) } as Message);
        continue;
      }
      // A client's payload is walked first: one whose decoding would cost seconds is refused unread.
      if (isClientCode(p.code)) checkPlainPayload(payload, p.name);
      let value: unknown;
      try {
        value = packr.unpack(payload);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new ProtocolError('BAD_MSGPACK', `${p.name} payload is not valid MessagePack: ${why}`, { cause: err });
      }
      out.push({ type: p.name, ...validatePayload(p.name, value) } as Message);
    }
  }

  /** Consumes a header if all 7 bytes are here; checks magic and length as soon as their bytes are. */
  private readHeader(): boolean {
    if (this.buffered === 0) return false;
    const n = Math.min(this.buffered, HEADER_BYTES);
    const first = this.chunks[0]!;
    let h: Buffer;
    if (first.length - this.offset >= n) {
      h = first.subarray(this.offset, this.offset + n); // usual case: no copy
    } else {
      h = Buffer.allocUnsafe(n);
      this.peek(h);
    }
    // Named by the first wrong byte alone, so the message does not depend on how the bytes were chunked.
    const magic = [FRAME_MAGIC >> 8, FRAME_MAGIC & 0xff];
    const wrong = h[0] !== magic[0] ? 0 : n >= 2 && h[1] !== magic[1] ? 1 : -1;
    if (wrong >= 0) {
      throw new ProtocolError('BAD_MAGIC', `bad frame magic: byte ${wrong} is ${hex(h[wrong]!)}, not ${hex(magic[wrong]!)} (a frame starts with "OM")`);
    }
    if (n >= 6) {
      const length = h.readUInt32BE(2);
      const first = this.frames === 0 && this.firstMaxPayload < this.maxPayload;
      const cap = first ? this.firstMaxPayload : this.maxPayload;
      if (length > cap) {
        const what = first ? 'first frame (the Hello)' : 'frame';
        throw new ProtocolError('TOO_LARGE', `${what} length ${length} is over the ${cap}-byte cap`);
      }
    }
    if (n < HEADER_BYTES) return false;
    const code = h[6]!;
    const name = messageName(code);
    if ((!name || !this.accepts(code)) && this.onUnknown === 'throw') {
      const what = name ? `${name} (${hex(code)}) is not expected from a ${this.from}` : `unknown message type ${hex(code)}`;
      throw new ProtocolError('UNKNOWN_TYPE', what);
    }
    this.discard(HEADER_BYTES);
    this.frames++;
    this.pending = { code, name, length: h.readUInt32BE(2) };
    return true;
  }

  private accepts(code: number): boolean {
    return this.from === undefined || isClientCode(code) === (this.from === 'client');
  }

  /** Copies the first `dst.length` unconsumed bytes into dst without consuming them. */
  private peek(dst: Buffer): void {
    let off = this.offset;
    let filled = 0;
    for (let i = 0; filled < dst.length; i++, off = 0) {
      filled += this.chunks[i]!.copy(dst, filled, off);
    }
  }

  /** Consumes n bytes: a view if they lie in one chunk, else one copy. */
  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length - this.offset >= n) {
      const view = first.subarray(this.offset, this.offset + n);
      this.discard(n);
      return view;
    }
    const dst = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    let off = this.offset;
    while (filled < n) {
      const c = this.chunks[i]!;
      const k = Math.min(c.length - off, n - filled);
      c.copy(dst, filled, off, off + k);
      filled += k;
      if (off + k === c.length) {
        i++;
        off = 0;
      } else {
        off += k;
      }
    }
    this.chunks.splice(0, i); // one splice for all consumed chunks: linear, not quadratic
    this.offset = off;
    this.buffered -= n;
    return dst;
  }

  /** Drops n unconsumed bytes. */
  private discard(n: number): void {
    this.buffered -= n;
    let i = 0;
    let off = this.offset + n;
    while (i < this.chunks.length && off >= this.chunks[i]!.length) {
      off -= this.chunks[i]!.length;
      i++;
    }
    if (i > 0) this.chunks.splice(0, i);
    this.offset = this.chunks.length ? off : 0;
  }
}

/** `"dir"`, `"tUs"`, `"data"` as MessagePack fixstrs. */
const DIR_KEY = Buffer.from([0xa3, 0x64, 0x69, 0x72]);
const TUS_KEY = Buffer.from([0xa3, 0x74, 0x55, 0x73]);
const DATA_KEY = Buffer.from([0xa4, 0x64, 0x61, 0x74, 0x61]);

/**
 * An IoData payload in the layout encodeFrame and the native relay (frames.c) write: a fixmap of
 * dir (positive fixint), tUs (uint 8/16/32/64, or float64 above 2^32 - 1, as msgpackr writes it)
 * and data (bin 8/16/32 that ends the payload). `data` is a view into `payload`, not a copy.
 * Skips msgpackr and the plain-payload walk for the frame that carries nearly every byte.
 * @returns undefined for any other layout, which then takes the general path (same result, or
 *   the same error)
 */
function readIoData(b: Buffer): { dir: number; tUs: number; data: Buffer } | undefined {
  if (b.length < 16 || b[0] !== 0x83 || !startsWith(b, 1, DIR_KEY)) return undefined;
  const dir = b[5]!;
  if (dir > 0x7f || !startsWith(b, 6, TUS_KEY)) return undefined;
  let k = 10;
  const t = b[k++]!;
  let tUs: number;
  if (t <= 0x7f) tUs = t;
  else if (t === 0xcb && k + 8 <= b.length) {
    tUs = b.readDoubleBE(k);
    k += 8;
  } else {
    const n = UINT_BYTES[t];
    if (n === undefined || k + n > b.length) return undefined;
    tUs = b.readUIntBE(k, n);
    k += n;
  }
  if (!startsWith(b, k, DATA_KEY)) return undefined;
  k += DATA_KEY.length;
  const n = BIN_BYTES[b[k++]!];
  if (n === undefined || k + n > b.length) return undefined;
  const len = b.readUIntBE(k, n);
  k += n;
  return k + len === b.length ? { dir, tUs, data: b.subarray(k) } : undefined;
}

/** Width of the length or value after a MessagePack uint 8/16/32 and bin 8/16/32 type byte. */
const UINT_BYTES: Partial<Record<number, number>> = { 0xcc: 1, 0xcd: 2, 0xce: 4 };
const BIN_BYTES: Partial<Record<number, number>> = { 0xc4: 1, 0xc5: 2, 0xc6: 4 };

function startsWith(b: Buffer, at: number, prefix: Buffer): boolean {
  return at + prefix.length <= b.length && b.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0;
}
