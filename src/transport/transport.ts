/**
 * How client and daemon exchange messages, independent of the medium. unix.ts implements it over a
 * Unix socket; TCP+TLS can come later behind the same interfaces.
 */
import type { Message } from '../protocol/index.js';

/** Something registered with an owner that must be released. */
export interface Disposable {
  dispose(): void;
}

/** One open, framed, bidirectional connection. */
export interface Connection {
  /**
   * Queues one message. Never blocks and never drops: the frame is queued even when this returns
   * false. False means the outgoing buffer is over the high-water mark (backpressure): stop sending
   * non-essential data until onDrain fires. After close/destroy the message is dropped and the
   * result is false.
   * @throws ProtocolError if the message does not validate (a bug in the sender)
   */
  send(msg: Message): boolean;
  /**
   * Registers a listener for incoming messages, in order. Messages that arrive before the first
   * listener is registered are held (and reading paused) until it is.
   */
  onMessage(cb: (msg: Message) => void): Disposable;
  /**
   * Registers a listener for the end of the connection, called once. `err` is set when it ended
   * because of an error: a socket error, a ProtocolError from the peer's bytes, or an exception
   * thrown by an onMessage listener. A listener registered after the close is called at once
   * (asynchronously).
   */
  onClose(cb: (err?: Error) => void): Disposable;
  /** Registers a listener for "the outgoing buffer has drained below the high-water mark". */
  onDrain(cb: () => void): Disposable;
  /** Ends gracefully: queued frames are flushed, then the connection closes (forcibly after a grace period). */
  close(): void;
  /** Closes at once, dropping queued frames. */
  destroy(err?: Error): void;
  /** Bytes queued for sending, not yet handed to the kernel. */
  readonly bufferedBytes: number;
  /** The socket's file descriptor (for the native relay, which writes frames itself); undefined when unknown. */
  readonly fd?: number;
  /** True once the connection is closed or closing; send() is then a no-op. */
  readonly closed: boolean;
}

/** A listening endpoint, returned by Transport.listen. */
export interface TransportServer {
  /** Where it listens (the socket path for Unix sockets). */
  readonly address: string;
  /** Open connections accepted by this server. */
  readonly connections: ReadonlySet<Connection>;
  /**
   * Stops accepting, closes every open connection (gracefully, see Connection.close) and removes
   * the listening endpoint. Resolves when all is closed.
   */
  close(): Promise<void>;
}

/** A medium that can accept and make connections. */
export interface Transport {
  /**
   * Starts listening (the daemon side). `onConnection` is called for each accepted connection
   * before any of its messages is delivered; register onMessage there.
   */
  listen(onConnection: (conn: Connection) => void): Promise<TransportServer>;
  /** Connects to a listening daemon (the client side). */
  connect(): Promise<Connection>;
}
