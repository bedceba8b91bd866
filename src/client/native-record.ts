/**
 * The recorder's buffer on the native relay: the C thread batches the output, bounds what it
 * holds (the cap, then a Gap) and writes the frames to the daemon connection itself (loop.c).
 * This side hands it the connection once the handshake and SessionStart are out, and the frames
 * that come from JavaScript (Resize, SessionEnd), encoded by src/protocol as always.
 */
import { encodeFrame, type Resize, type SessionEnd } from '../protocol/index.js';
import type { NativeRelay } from './native/addon.js';
import type { RecordBuffer } from './recorder.js';
import type { QueueOutlet } from './record-queue.js';

/** How often the hand-over checks that the connection's own writes are out (ms). */
const HANDOVER_POLL_MS = 2;

export class NativeRecordBuffer implements RecordBuffer {
  private paused = false;
  private outlet: (QueueOutlet & { readonly fd?: number }) | undefined;

  constructor(private readonly relay: NativeRelay) {}

  /** Never called: the output never leaves C. */
  output(): void {}

  push(msg: Resize | SessionEnd): void {
    this.relay.send(encodeFrame(msg));
  }

  pause(): boolean {
    if (this.paused) return false;
    this.paused = true;
    this.relay.pauseRecording();
    return true;
  }

  resume(): boolean {
    if (!this.paused) return false;
    this.paused = false;
    this.relay.resumeRecording();
    return true;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get isEmpty(): boolean {
    return this.relay.queuedBytes() === 0;
  }

  get isBlocked(): boolean {
    return false;
  }

  /** Counted by the C thread as each frame leaves for the socket (loop.c, write_queue). */
  get sentBytes(): number | undefined {
    const sent = this.relay.stats().sentBytes as number | undefined; // undefined: an addon older than the count
    return typeof sent === 'number' ? sent : undefined;
  }

  /**
   * The thread writes to a duplicate of the connection's fd, but only once the Hello and
   * SessionStart that Node wrote on it have left Node's buffer: frames must follow them.
   */
  setOutlet(outlet: (QueueOutlet & { readonly fd?: number }) | undefined): void {
    this.outlet = outlet;
    if (!outlet) {
      this.relay.setOutlet(-1);
      return;
    }
    const handOver = (): void => {
      if (this.outlet !== outlet || outlet.closed) return;
      if (outlet.bufferedBytes > 0) {
        setTimeout(handOver, HANDOVER_POLL_MS);
        return;
      }
      if (outlet.fd === undefined) throw new Error('the daemon connection has no file descriptor');
      this.relay.setOutlet(outlet.fd);
    };
    handOver();
  }

  drained(): void {}

  flush(): boolean {
    return this.isEmpty;
  }
}
