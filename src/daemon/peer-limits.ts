/**
 * What one authenticated connection may cost the daemon. The frame caps (src/protocol) bound what
 * a peer makes omnishd read; these bound what it makes omnishd hold for it: answers it does not
 * read, and requests it sends faster than they are answered. A client sends one request per
 * connection and reads everything, so neither limit is ever near for omnish itself.
 */
import { MAX_PAYLOAD_BYTES } from '../protocol/index.js';
import type { Connection } from '../transport/index.js';
import type { Logger } from './log.js';

/**
 * Most requests one control connection may have unanswered. Without it, a peer that pipelines
 * requests makes omnishd start all of them at once (1 M `status` requests, 34 MB, held 480 MB).
 */
export const MAX_PENDING_REQUESTS = 64;

/**
 * Most bytes queued for a peer that it has not read, checked before each send, in bytes (8 MiB, so
 * one answer of the largest frame always fits: at most twice that is ever held for a connection).
 */
export const MAX_UNREAD_BYTES = MAX_PAYLOAD_BYTES;

/**
 * `conn`, except that a send() while more than MAX_UNREAD_BYTES wait unread destroys the
 * connection instead of queueing more: a peer that does not read its answers is dropped (and
 * logged), not buffered for without bound.
 */
export function readingPeer(conn: Connection, log: Logger): Connection {
  return {
    send(msg) {
      if (conn.bufferedBytes > MAX_UNREAD_BYTES) {
        if (!conn.closed) log.warn({ unreadBytes: conn.bufferedBytes }, 'peer does not read what it is sent; closing connection');
        conn.destroy(new Error(`peer left more than ${MAX_UNREAD_BYTES} bytes unread`));
        return false;
      }
      return conn.send(msg);
    },
    onMessage: (cb) => conn.onMessage(cb),
    onClose: (cb) => conn.onClose(cb),
    onDrain: (cb) => conn.onDrain(cb),
    close: () => conn.close(),
    destroy: (err) => conn.destroy(err),
    get bufferedBytes() {
      return conn.bufferedBytes;
    },
    get fd() {
      return conn.fd;
    },
    get closed() {
      return conn.closed;
    },
  };
}
