import { ProtocolError } from '../protocol/errors.js';

/**
 * The few typed errors omnish raises on purpose. The CLI's top level turns any of them into one
 * line on stderr and a non-zero exit; anything else is a bug and keeps its stack trace.
 */

/** Base class: an error whose message is written for the user, not for a debugger. */
export class OmnishError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A frame or message on the wire broke the protocol (docs/protocol.md). Fatal for that connection only. */
export { ProtocolError } from '../protocol/errors.js';

/** The daemon could not be reached or started. */
export class DaemonUnavailableError extends OmnishError {}

/** A config file or value is invalid. The message names the file and the key. */
export class ConfigError extends OmnishError {}

/** Bad user input on the command line (unknown id, bad flag value, ...). Exit code 2. */
export class UsageError extends OmnishError {
  override readonly exitCode = 2;
}

/** A stored session could not be read completely. */
export class StoreError extends OmnishError {}

/** True for errors whose message is meant for the user (no stack trace needed). */
export function isUserFacing(err: unknown): err is OmnishError | ProtocolError {
  return err instanceof OmnishError || err instanceof ProtocolError;
}
