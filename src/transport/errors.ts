/**
 * Errors of the transport layer. Each extends a class of src/common/errors.ts, so the CLI shows it
 * as one line; the extra fields let callers react without parsing messages.
 */
import { DaemonUnavailableError, OmnishError } from '../common/errors.js';

/**
 * Connecting to the daemon failed. `code` tells why: 'ENOENT' (no socket: no daemon was started),
 * 'ECONNREFUSED' (stale socket: the daemon died), 'ETIMEDOUT' (no answer in time), or another errno.
 */
export class ConnectError extends DaemonUnavailableError {
  constructor(
    message: string,
    /** errno-style code, e.g. 'ENOENT'. */
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Another daemon already answers on the socket: this one must not take it over. */
export class DaemonRunningError extends OmnishError {
  constructor(
    message: string,
    /** The socket path in use. */
    readonly path: string,
  ) {
    super(message);
  }
}

/**
 * A file or directory that must be private to the user is not (wrong owner, group/other
 * permissions), or is not what it should be (not a directory, not a socket). The message says
 * which path and how to fix it.
 */
export class InsecurePathError extends OmnishError {
  constructor(
    message: string,
    /** The offending path. */
    readonly path: string,
  ) {
    super(message);
  }
}
