/**
 * The one error type of the wire protocol. It lives here, not in src/common, because src/protocol
 * imports nothing of ours; src/common/errors.ts re-exports it so the rest of omnish sees one class.
 */
import type { Message } from './messages.js';

/** What exactly broke, for callers that react differently (e.g. log level, Refused text). */
export type ProtocolErrorCode =
  /** The frame did not start with "OM". */
  | 'BAD_MAGIC'
  /** The frame's length field exceeds the payload cap. */
  | 'TOO_LARGE'
  /** The stream ended inside a frame. */
  | 'TRUNCATED'
  /** A type code this side does not know, or does not accept from this peer. */
  | 'UNKNOWN_TYPE'
  /**
   * The payload is not a single valid MessagePack value; for a client's frame also: not plain
   * MessagePack within LIMITS.maxValues and LIMITS.maxNesting (plain.ts).
   */
  | 'BAD_MSGPACK'
  /** The payload decoded but does not match the message's schema. */
  | 'INVALID'
  /** The peers speak different protocol versions. */
  | 'VERSION_MISMATCH'
  /** The decoder already failed once; it does not resynchronise. */
  | 'DECODER_FAILED';

/** Options of {@link ProtocolError}. */
export interface ProtocolErrorOptions {
  /** The underlying error (e.g. msgpackr's), if any. */
  cause?: unknown;
  /** Messages decoded from the same chunk before the bad frame; they are valid and may be used. */
  decoded?: readonly Message[];
}

/**
 * A frame or message on the wire broke the protocol (docs/protocol.md). Fatal for that connection
 * only. The message is written for the user: it may be sent verbatim in a Refused message.
 */
export class ProtocolError extends Error {
  /** Process exit code the CLI uses for this error (same contract as OmnishError). */
  readonly exitCode: number = 1;
  /** What broke. */
  readonly code: ProtocolErrorCode;
  /** Valid messages decoded from the same chunk before the failure (deliver them, then drop). */
  readonly decoded: readonly Message[];

  constructor(code: ProtocolErrorCode, message: string, options: ProtocolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProtocolError';
    this.code = code;
    this.decoded = options.decoded ?? [];
  }
}
