/**
 * What the recorder holds for omnishd, as a pure unit (no I/O, no timers but injected ones): output
 * merged into IoData batches, the queue of messages waiting for the socket, and the cap on the
 * memory both take, counted together with what the socket itself still buffers.
 *
 * Writing stops as soon as the outlet reports backpressure and resumes after drained() (the owner
 * calls it on the socket's drain). Output past the cap is dropped and a Gap, counting the dropped
 * bytes, takes its place in the queue: the stream the daemon gets is exact up to the gap and goes
 * on after it. Once dropping, output is kept again only when there is room for a batch (or a
 * quarter of the cap, if smaller): one gap per stall rather than many with slivers between.
 */
import { IoDir, type Gap, type Message, type Resize, type SessionEnd } from '../protocol/index.js';

/** Where the queue writes: the send side of a connection. */
export interface QueueOutlet {
  /** Hands one message over (it is then the outlet's); false means backpressure: send no more until a drain. */
  send(msg: Message): boolean;
  /** Bytes the outlet holds that the kernel has not taken yet: counted against the cap. */
  readonly bufferedBytes: number;
  /** True once the outlet is closing: nothing more is sent to it (it would be lost). */
  readonly closed: boolean;
}

/** The timer functions the queue uses, so tests can drive time. */
export interface QueueTimers {
  setTimeout(cb: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of {@link RecordQueue}. */
export interface RecordQueueOptions {
  /** Output bytes held (batch + queue + outlet's buffer) before output is dropped. */
  capBytes: number;
  /** Largest IoData payload, bytes (default 64 KiB). */
  batchBytes?: number;
  /** A batch that is not full is sealed after this many ms (default 5). */
  batchMs?: number;
  /** Called when a message joined the queue: the owner schedules a flush. */
  onQueued?: () => void;
  /** Default: the global setTimeout/clearTimeout. */
  timers?: QueueTimers;
}

import { BATCH_BYTES, BATCH_MS, CAP_REASON, PAUSE_REASON } from './record-limits.js';

export { BATCH_BYTES, BATCH_MS, CAP_REASON, PAUSE_REASON };

const globalTimers: QueueTimers = {
  setTimeout: (cb, ms) => setTimeout(cb, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** See the module comment. */
export class RecordQueue {
  private readonly queue: Message[] = [];
  /** Index of the first message of `queue` not yet sent (the array is compacted now and then). */
  private head = 0;
  /** Output bytes in the queue's IoData messages not yet sent. */
  private queuedBytes = 0;
  /** Output not yet sealed into an IoData: chunks, their bytes, and the tUs of the first. */
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private batchTUs = 0;
  private batchTimer: unknown;
  /** Set while paused: since when (µs) and how many output bytes were left out. */
  private paused: { sinceUs: number; bytes: number } | undefined;
  private outlet: QueueOutlet | undefined;
  /** Set from a drop until there is room for a batch again: one gap per stall, not slivers between many. */
  private dropping = false;
  /** Set when the outlet reported backpressure: nothing is sent until drained(). */
  private blocked = false;
  /** Output bytes and Gap lostBytes handed to outlets so far (see sentBytes). */
  private sent = 0;
  private readonly capBytes: number;
  private readonly maxBatch: number;
  private readonly batchMs: number;
  private readonly timers: QueueTimers;
  /** After a drop, output is kept again only with this much room under the cap, bytes. */
  private readonly resumeRoom: number;

  constructor(private readonly options: RecordQueueOptions) {
    this.capBytes = options.capBytes;
    this.maxBatch = options.batchBytes ?? BATCH_BYTES;
    this.batchMs = options.batchMs ?? BATCH_MS;
    this.timers = options.timers ?? globalTimers;
    this.resumeRoom = Math.min(this.maxBatch, Math.floor(this.capBytes / 4));
  }

  /**
   * Bytes of output held now, as the cap counts them: the open batch, the queued IoData and what
   * the outlet still buffers.
   */
  get heldBytes(): number {
    return this.batchBytes + this.queuedBytes + (this.outlet?.bufferedBytes ?? 0);
  }

  /** True when nothing waits to be sent (open batch included); the outlet may still buffer. */
  get isEmpty(): boolean {
    return this.batchBytes === 0 && this.head === this.queue.length;
  }

  /**
   * Bytes handed to outlets so far, counted as the store counts them: output payload bytes plus the
   * lostBytes of Gaps (SessionStart.sentBytes). What an outlet had not delivered when it closed is
   * in the count: that is the loss the daemon records as a gap on resume.
   */
  get sentBytes(): number {
    return this.sent;
  }

  /** True between pause() and resume(). */
  get isPaused(): boolean {
    return this.paused !== undefined;
  }

  /**
   * Sets where flush() writes and whose buffer counts against the cap; undefined while there is no
   * connection (what the old outlet buffered is gone with it).
   */
  setOutlet(outlet: QueueOutlet | undefined): void {
    this.outlet = outlet;
    this.blocked = false;
  }

  /** True while the outlet's backpressure holds writing back (until drained()). */
  get isBlocked(): boolean {
    return this.blocked;
  }

  /** The outlet drained its buffer: writing resumes (the owner calls it on the socket's drain, then flush()). */
  drained(): void {
    this.blocked = false;
  }

  /** Output bytes at `tUs` (µs since session start). Keeps `data` (the caller must not reuse it). */
  output(data: Buffer, tUs: number): void {
    if (this.paused) {
      this.paused.bytes += data.length;
      return;
    }
    const room = this.capBytes - this.heldBytes;
    if (data.length > room || (this.dropping && room - data.length < this.resumeRoom)) return this.drop(data.length, tUs);
    this.dropping = false;
    // A batch never grows past maxBatch: seal first, and cut a chunk larger than a batch.
    if (this.batchBytes + data.length > this.maxBatch) this.seal();
    for (let at = 0; at < data.length; at += this.maxBatch) {
      const piece = at === 0 && data.length <= this.maxBatch ? data : data.subarray(at, at + this.maxBatch);
      if (this.batchBytes === 0) this.batchTUs = tUs;
      this.batch.push(piece);
      this.batchBytes += piece.length;
      if (this.batchBytes >= this.maxBatch) this.seal();
    }
    if (this.batchBytes > 0) this.batchTimer ??= this.timers.setTimeout(() => this.seal(), this.batchMs);
  }

  /** Queues a message that is never dropped (Resize, SessionEnd), after the output before it. */
  push(msg: Resize | SessionEnd): void {
    this.seal();
    this.enqueue(msg);
  }

  /** Stops keeping output until resume(); false when already paused. */
  pause(tUs: number): boolean {
    if (this.paused) return false;
    this.seal();
    this.paused = { sinceUs: tUs, bytes: 0 };
    return true;
  }

  /** Keeps output again and queues a Gap for what pause() left out; false when not paused. */
  resume(): boolean {
    if (!this.paused) return false;
    this.enqueue({ type: 'Gap', tUs: this.paused.sinceUs, lostBytes: this.paused.bytes, reason: PAUSE_REASON });
    this.paused = undefined;
    return true;
  }

  /**
   * Seals the open batch and sends queued messages in order until the queue is empty or the outlet
   * reports backpressure; after that it sends nothing until drained(). Sends nothing without an
   * outlet or to a closed one.
   * @returns true when the queue is empty afterwards
   */
  flush(): boolean {
    this.seal();
    const outlet = this.outlet;
    if (!outlet || this.blocked) return this.isEmpty;
    while (this.head < this.queue.length && !outlet.closed) {
      const msg = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Message; // let the sent payload be freed
      if (msg.type === 'IoData') {
        this.queuedBytes -= msg.data.length;
        this.sent += msg.data.length;
      } else if (msg.type === 'Gap') this.sent += msg.lostBytes;
      if (!outlet.send(msg)) {
        this.blocked = true;
        break;
      }
    }
    this.compact();
    return this.isEmpty;
  }

  /** Turns the open batch into one IoData in the queue. */
  private seal(): void {
    if (this.batchTimer !== undefined) {
      this.timers.clearTimeout(this.batchTimer);
      this.batchTimer = undefined;
    }
    if (this.batchBytes === 0) return;
    const data = this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch, this.batchBytes);
    this.queuedBytes += this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    this.enqueue({ type: 'IoData', dir: IoDir.Output, tUs: this.batchTUs, data });
  }

  /** Output over the cap: a Gap where it would have been, or a longer one if the last message is one. */
  private drop(bytes: number, tUs: number): void {
    this.seal();
    this.dropping = true;
    const last = this.head < this.queue.length ? this.queue[this.queue.length - 1] : undefined;
    if (last?.type === 'Gap' && last.reason === CAP_REASON) last.lostBytes += bytes;
    else this.enqueue({ type: 'Gap', tUs, lostBytes: bytes, reason: CAP_REASON } satisfies Gap);
  }

  private enqueue(msg: Message): void {
    this.queue.push(msg);
    this.options.onQueued?.();
  }

  /** Drops the sent prefix of the array once it is most of it, so the array does not grow forever. */
  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
