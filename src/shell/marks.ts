/**
 * Shell-integration marks in a pty's output: an incremental parser, pure (no I/O), shared by the
 * client (prompt tracking, optional stripping) and the daemon (command records).
 *
 * The integration scripts emit, each ended by BEL (0x07) or ST (ESC \):
 *
 *   ESC ] 133 ; A ; omnish=<nonce>            prompt starts
 *   ESC ] 133 ; B ; omnish=<nonce>            prompt ends, input starts
 *   ESC ] 133 ; C ; omnish=<nonce>            command output starts
 *   ESC ] 133 ; D ; <exit> ; omnish=<nonce>   command finished with status <exit>
 *   ESC ] 633 ; E ; <cmd> ; omnish=<nonce>    the command line (escaped)
 *   ESC ] 633 ; P ; Cwd=<path> ; omnish=<nonce>  working directory (escaped)
 *
 * Escaping is VS Code's: `\\` is a backslash, `\xHH` the byte HH (so `\x3b` is `;`); the bytes are
 * UTF-8. Any program can print look-alikes, so a mark counts only when its last parameter is
 * `omnish=<this session's nonce>`; OSC 7 and fish 4's own (nonce-less) OSC 133 are ignored.
 * The alternate screen (CSI ? 1049/1047/47 h/l) is reported too: full-screen programs use it.
 */

import { parseMarkPayload, type MarkEvent } from './mark-payload.js';

export { unescapeMarkText, type MarkEvent, type MarkKind } from './mark-payload.js';

/** Longest OSC payload kept, bytes. A longer one is abandoned, so garbage cannot grow memory. */
export const MAX_OSC_BYTES = 64 * 1024;
/** Longest parameter list of a private-mode CSI that is examined, bytes. */
const MAX_CSI_PARAMS = 64;

const ESC = 0x1b;
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;
const BACKSLASH = 0x5c;

// Parser states. Ground is the only state in which a chunk without ESC needs no byte-wise look.
const GROUND = 0;
const ESCAPE = 1; // after ESC
const CSI_START = 2; // after ESC [
const CSI_PRIVATE = 3; // after ESC [ ?
const OSC = 4; // after ESC ], collecting the payload
const OSC_ESC = 5; // an ESC inside an OSC: ST if a backslash follows, else the OSC is cut short

const ALT_MODES = new Set(['1049', '1047', '47']);
const PREFIXES = [Buffer.from('133;', 'latin1'), Buffer.from('633;', 'latin1')];

/** Parses the marks of one session's output, chunk by chunk. Sequences may be split anywhere. */
export class MarkParser {
  private state = GROUND;
  /** Stream offset of the next byte to be pushed. */
  private pos = 0;
  /** Stream offset of the ESC that began the pending sequence. */
  private seqStart = 0;
  private csiParams = '';
  /** Copies of the pending OSC payload's pieces from earlier chunks, and their total length. */
  private oscParts: Buffer[] = [];
  private oscLen = 0;
  private alt = false;
  private readonly tag: string;
  /** Strip mode: bytes withheld at the end of the last chunk (a mark may be beginning there). */
  private held: Buffer | null = null;
  /** Strip mode: [start, end) stream offsets of our marks completed during this push. */
  private cuts: number[] | null = null;

  /** @param nonce the session's secret; marks must end with `omnish=<nonce>`. */
  constructor(readonly nonce: string) {
    if (!/^[!-:<-~]+$/.test(nonce)) throw new RangeError('nonce must be printable ASCII without ; or spaces');
    this.tag = `omnish=${nonce}`;
  }

  /** Bytes pushed so far (plus any baseOffset): the stream offset of the next byte. */
  get offset(): number {
    return this.pos;
  }

  /** True while the alternate screen is on, as far as the sequences seen so far tell. */
  get altScreen(): boolean {
    return this.alt;
  }

  /**
   * Parses the next chunk of output.
   * @param baseOffset stream offset of `chunk[0]`, when the caller counts bytes itself (e.g. a
   *   resumed session); default: right after the previous chunk.
   * @returns the marks completed in this chunk, in order ([] for most chunks).
   */
  push(chunk: Uint8Array, baseOffset?: number): MarkEvent[] {
    if (baseOffset !== undefined) this.pos = baseOffset;
    // The hot path: most chunks of a pty hold no ESC at all; indexOf is native and fast.
    if (this.state === GROUND && chunk.indexOf(ESC) === -1) {
      this.pos += chunk.length;
      return [];
    }
    const events: MarkEvent[] = [];
    this.scan(chunk, events);
    return events;
  }

  /**
   * Like push(), and also returns the chunk without this session's marks (for `[shell] strip_marks`).
   * A chunk ending inside what may become one of our marks has that tail withheld until the next
   * chunk decides it; withheld bytes are never more than a partial escape sequence (at most
   * MAX_OSC_BYTES), which a terminal could not act on yet anyway. Returns `chunk` itself, without
   * allocating, when nothing is removed or withheld. Do not mix with push() on one parser.
   */
  pushAndStrip(chunk: Buffer): { events: MarkEvent[]; output: Buffer } {
    const held = this.held;
    if (held === null && this.state === GROUND && chunk.indexOf(ESC) === -1) {
      this.pos += chunk.length;
      return { events: [], output: chunk };
    }
    const chunkStart = this.pos;
    const vStart = chunkStart - (held?.length ?? 0);
    const cuts: number[] = [];
    const events: MarkEvent[] = [];
    this.cuts = cuts;
    try {
      this.scan(chunk, events);
    } finally {
      this.cuts = null;
    }
    const vEnd = this.pos;
    const holdFrom = Math.max(this.holdFrom() ?? vEnd, vStart);
    if (held === null && cuts.length === 0 && holdFrom === vEnd) return { events, output: chunk };
    // The virtual buffer held ++ chunk covers stream offsets [vStart, vEnd).
    const slice = (a: number, b: number, out: Buffer[]): void => {
      if (a >= b) return;
      if (held && a < chunkStart) out.push(held.subarray(a - vStart, Math.min(b, chunkStart) - vStart));
      if (b > chunkStart) out.push(chunk.subarray(Math.max(a, chunkStart) - chunkStart, b - chunkStart));
    };
    const pieces: Buffer[] = [];
    let at = vStart;
    for (let k = 0; k < cuts.length; k += 2) {
      const s = cuts[k] ?? 0;
      const e = cuts[k + 1] ?? 0;
      if (s < at) continue; // its beginning was already passed on: leave the rest too, never emit half a sequence
      slice(at, s, pieces);
      at = e;
    }
    slice(at, holdFrom, pieces);
    const tail: Buffer[] = [];
    slice(holdFrom, vEnd, tail);
    this.held = tail.length > 0 ? Buffer.concat(tail) : null;
    return { events, output: Buffer.concat(pieces) };
  }

  /** Strip mode: returns (and forgets) the withheld bytes, e.g. when the output ends. */
  takeHeld(): Buffer {
    const held = this.held ?? Buffer.alloc(0);
    this.held = null;
    return held;
  }

  /** Strip mode: where to start withholding at the end of a chunk, or null for nothing. */
  private holdFrom(): number | null {
    switch (this.state) {
      case ESCAPE:
        return this.seqStart;
      case OSC:
        return this.oscMayBeOurs() ? this.seqStart : null;
      case OSC_ESC:
        // If the OSC is not ours, the trailing ESC may still begin a mark.
        return this.oscMayBeOurs() ? this.seqStart : this.pos - 1;
      default:
        return null;
    }
  }

  private oscMayBeOurs(): boolean {
    const head = Buffer.concat(this.oscParts, Math.min(this.oscLen, 4));
    return PREFIXES.some((p) => head.equals(p.subarray(0, head.length)));
  }

  private scan(chunk: Uint8Array, events: MarkEvent[]): void {
    const base = this.pos;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case GROUND: {
          const j = chunk.indexOf(ESC, i);
          if (j === -1) {
            i = n;
            break;
          }
          this.seqStart = base + j;
          this.state = ESCAPE;
          i = j + 1;
          break;
        }
        case ESCAPE: {
          const b = chunk[i] as number;
          if (b === ESC) this.seqStart = base + i;
          else if (b === 0x5d) this.beginOsc();
          else this.state = b === 0x5b ? CSI_START : GROUND;
          i++;
          break;
        }
        case CSI_START:
          // Only private modes matter; the rest of any other CSI holds no ESC, so ground skips it.
          if (chunk[i] === 0x3f) {
            this.state = CSI_PRIVATE;
            this.csiParams = '';
            i++;
          } else this.state = GROUND;
          break;
        case CSI_PRIVATE: {
          const b = chunk[i] as number;
          if ((b >= 0x30 && b <= 0x39) || b === 0x3b) {
            this.csiParams += String.fromCharCode(b);
            if (this.csiParams.length > MAX_CSI_PARAMS) this.state = GROUND;
            i++;
          } else if (b === 0x68 || b === 0x6c) {
            this.state = GROUND;
            i++;
            this.altMode(b === 0x68, base + i, events);
          } else this.state = GROUND; // not a mode we track; an ESC is looked at again in ground
          break;
        }
        case OSC:
          i = this.oscBytes(chunk, i, base, events);
          break;
        case OSC_ESC:
          if (chunk[i] === BACKSLASH) {
            this.state = GROUND;
            i++;
            this.endOsc(Buffer.concat(this.oscParts), base + i, events);
          } else {
            // The OSC was cut short; its ESC (the previous byte, maybe in the previous chunk) starts anew.
            this.state = ESCAPE;
            this.seqStart = base + i - 1;
            this.oscParts = [];
          }
          break;
      }
    }
    this.pos = base + n;
  }

  private beginOsc(): void {
    this.state = OSC;
    this.oscParts = [];
    this.oscLen = 0;
  }

  /** Consumes OSC payload bytes from `chunk[i]` up to and including a terminator; returns the next index. */
  private oscBytes(chunk: Uint8Array, i: number, base: number, events: MarkEvent[]): number {
    const n = chunk.length;
    let j = i;
    for (; j < n; j++) {
      const b = chunk[j];
      if (b === BEL || b === ESC || b === CAN || b === SUB) break;
    }
    if (this.oscLen + (j - i) > MAX_OSC_BYTES) {
      // Too long to be ours: drop it and read on as ground, so later marks are still found.
      this.state = GROUND;
      this.oscParts = [];
      return j;
    }
    const piece = chunk.subarray(i, j);
    if (j === n || (chunk[j] === ESC && j + 1 === n)) {
      // The chunk ends inside the OSC (or right after an ESC that may begin its ST): keep a copy,
      // since the caller may reuse the chunk's memory.
      this.oscParts.push(Buffer.from(piece));
      this.oscLen += piece.length;
      if (j < n) this.state = OSC_ESC;
      return n;
    }
    const b = chunk[j];
    if (b === BEL || (b === ESC && chunk[j + 1] === BACKSLASH)) {
      const end = b === BEL ? j + 1 : j + 2;
      this.state = GROUND;
      const payload = this.oscParts.length === 0 ? piece : Buffer.concat([...this.oscParts, piece]);
      this.oscParts = [];
      this.endOsc(payload, base + end, events);
      return end;
    }
    this.oscParts = [];
    if (b === ESC) {
      // ESC not followed by a backslash cuts the OSC short and begins a new sequence.
      this.state = ESCAPE;
      this.seqStart = base + j;
    } else this.state = GROUND; // CAN or SUB cancels
    return j + 1;
  }

  private altMode(on: boolean, end: number, events: MarkEvent[]): void {
    if (!this.csiParams.split(';').some((p) => ALT_MODES.has(p))) return;
    this.alt = on;
    events.push({ kind: on ? 'alt-on' : 'alt-off', start: this.seqStart, offset: end });
  }

  /** A complete OSC ending at stream offset `end`: one of our marks, or nothing. */
  private endOsc(payload: Uint8Array, end: number, events: MarkEvent[]): void {
    if (payload.length < 6 || !PREFIXES.some((p) => Buffer.compare(p, payload.subarray(0, 4)) === 0)) return;
    const mark = parseMarkPayload(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('latin1'), this.tag);
    if (!mark) return;
    events.push({ ...mark, start: this.seqStart, offset: end });
    this.cuts?.push(this.seqStart, end);
  }
}
