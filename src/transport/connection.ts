/**
 * A Connection over any stream socket (node:net Socket: Unix now, TCP+TLS later): frames out,
 * decoded messages in, backpressure, and one close notification.
 */
import type { Socket } from 'node:net';
import { FrameDecoder, MAX_HELLO_PAYLOAD_BYTES, ProtocolError, encodeFrame, type Message } from '../protocol/index.js';
import { Emitter } from './emitter.js';
import type { Connection, Disposable } from './transport.js';

/** Options of {@link SocketConnection}. */
export interface SocketConnectionOptions {
  /**
   * Who is at the other end. 'client' (we are the daemon): unknown or daemon→client types are a
   * protocol error, and a protocol error is answered with Refused before closing. 'daemon' (we are
   * the client): unknown types are skipped, so a newer daemon may add messages.
   */
  peer: 'client' | 'daemon';
  /** After close() or a Refused, how long the peer gets to close its side before we destroy, in ms. Default 2000. */
  closeGraceMs?: number;
}

const noop: Disposable = { dispose: () => undefined };

/** See {@link Connection}. Owns the socket: destroy() or close() releases it. */
export class SocketConnection implements Connection {
  private readonly decoder: FrameDecoder;
  private readonly messages = new Emitter<Message>();
  private readonly closes = new Emitter<Error | undefined>();
  private readonly drains = new Emitter<void>();
  /** Messages that arrived while no onMessage listener was registered (reading is paused meanwhile). */
  private held: Message[] = [];
  /** Set once close(), destroy() or a protocol error started the end of the connection. */
  private ending = false;
  /**
   * Set after a protocol error, destroy(), or close() on the daemon's side: incoming bytes are
   * discarded (or no longer read), nothing more is delivered.
   */
  private dead = false;
  private isClosed = false;
  private error: Error | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly options: SocketConnectionOptions,
  ) {
    // On the daemon's side the first frame (the Hello) gets a small cap: see MAX_HELLO_PAYLOAD_BYTES.
    this.decoder = new FrameDecoder(
      options.peer === 'client'
        ? { from: 'client', onUnknown: 'throw', firstFrameMaxPayloadBytes: MAX_HELLO_PAYLOAD_BYTES }
        : { from: 'daemon', onUnknown: 'skip' },
    );
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => {
      this.error ??= err;
    });
    socket.on('close', () => this.onSocketClose());
    socket.on('drain', () => this.drains.fire());
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  get fd(): number | undefined {
    // libuv's handle is internal to Node, but its fd has been stable on Unix for a decade.
    const fd = (this.socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
    return typeof fd === 'number' && fd >= 0 ? fd : undefined;
  }

  get closed(): boolean {
    return this.ending || this.isClosed;
  }

  send(msg: Message): boolean {
    const frame = encodeFrame(msg); // validates even when closed: an invalid message is a bug
    if (this.closed || !this.socket.writable) return false;
    return this.socket.write(frame);
  }

  onMessage(cb: (msg: Message) => void): Disposable {
    const d = this.messages.event(cb);
    if (this.held.length > 0) queueMicrotask(() => this.flushHeld());
    return d;
  }

  onClose(cb: (err?: Error) => void): Disposable {
    if (this.isClosed) {
      queueMicrotask(() => cb(this.error));
      return noop;
    }
    return this.closes.event(cb);
  }

  onDrain(cb: () => void): Disposable {
    return this.drains.event(cb);
  }

  close(): void {
    if (this.closed) return;
    if (this.options.peer === 'client') return this.hangUp();
    this.ending = true;
    this.socket.end();
    this.startGrace();
  }

  destroy(err?: Error): void {
    if (this.isClosed) return;
    if (err) this.error ??= err;
    this.ending = true;
    this.dead = true;
    // Not socket.destroy(err): that would emit 'error' for an error the caller already knows.
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.dead) return;
    let msgs: Message[];
    try {
      msgs = this.decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.deliver(err.decoded); // valid messages before the bad frame still count
      this.fail(err);
      return;
    }
    this.deliver(msgs);
  }

  private onEnd(): void {
    if (this.dead) return;
    try {
      this.decoder.end();
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.error ??= err; // cut mid-frame; the socket closes by itself (no half-open sockets)
    }
  }

  private deliver(msgs: readonly Message[]): void {
    for (const m of msgs) {
      if (this.dead) return;
      if (this.messages.size === 0 || this.held.length > 0) {
        this.held.push(m);
      } else {
        this.dispatch(m);
      }
    }
    // Nobody listens yet: stop reading rather than hold an unbounded backlog.
    if (this.held.length > 0 && !this.dead) this.socket.pause();
  }

  private flushHeld(): void {
    const held = this.held;
    let i = 0;
    while (i < held.length && this.messages.size > 0 && !this.dead) this.dispatch(held[i++]!);
    if (this.dead) return;
    this.held = held.slice(i); // non-empty only if the listener went away again
    if (this.held.length === 0) this.socket.resume();
  }

  /** A throwing listener is a bug on our side: it ends this connection only, with that error. */
  private dispatch(m: Message): void {
    try {
      this.messages.fire(m);
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** The peer broke the protocol: stop decoding; tell a client why, then close. */
  private fail(err: ProtocolError): void {
    this.error ??= err;
    this.dead = true;
    this.held = [];
    if (this.options.peer === 'client' && this.socket.writable && !this.ending) {
      this.hangUp(encodeFrame({ type: 'Refused', message: err.message }));
    } else {
      this.ending = true;
      this.socket.destroy();
    }
  }

  /**
   * The daemon's way to end a connection it wants nothing more from (a protocol error, a refused
   * Hello, a SessionEnd, shutdown): stop reading, write out what is queued (and `last`), then
   * destroy the socket, without waiting for the peer to close. Reading on would make the daemon
   * receive (and throw away) whatever a hostile peer still sends, megabytes per connection; and
   * a Unix socket's writes are already in the peer's receive queue when they finish, so the
   * peer reads them even though we close first (it then sees ECONNRESET if it sent more).
   * A peer that does not read gets closeGraceMs for the write to finish.
   */
  private hangUp(last?: Buffer): void {
    this.ending = true;
    this.dead = true;
    this.held = [];
    this.socket.pause();
    const destroy = (): void => void this.socket.destroy();
    if (last) this.socket.end(last, destroy);
    else this.socket.end(destroy);
    this.startGrace();
  }

  /** A peer that neither reads nor closes must not keep the socket (and our buffers) forever. */
  private startGrace(): void {
    this.graceTimer = setTimeout(() => this.socket.destroy(), this.options.closeGraceMs ?? 2000);
    this.graceTimer.unref();
  }

  private onSocketClose(): void {
    this.isClosed = true;
    this.ending = true;
    this.dead = true;
    this.held = [];
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.closes.fire(this.error);
    this.messages.clear();
    this.closes.clear();
    this.drains.clear();
  }
}
