import { ProtocolError } from '../protocol/errors.js';
import type { LlmErrorReason } from '../protocol/requests.js';

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

/**
 * The running omnishd does not answer a control method this omnish knows (its Welcome lists the
 * methods it answers): it is an older one.
 */
export class UnsupportedRequestError extends OmnishError {
  constructor(
    /** The method it does not answer, e.g. 'doctor-llm'. */
    readonly method: string,
    /** The daemon's package version, from its Welcome. */
    readonly daemonVersion: string,
  ) {
    super(`omnishd ${daemonVersion} does not answer '${method}': it is older than this omnish; run 'omnish daemon restart'`);
  }
}

/**
 * Where in config.toml a ConfigError is about: a key path (`['llm', 'claude', 'model']`; a table's
 * own path for an error about the whole table), or a key inside the `index`th (1-based) table of
 * an `[[array]]` (`{ path: ['pattern'], array: { path: ['events', 'rules'], index: 2 } }`).
 */
export interface ConfigKeyTarget {
  path: string[];
  array?: { path: string[]; index: number };
}

/** A config file or value is invalid. The message names the file and the key. */
export class ConfigError extends OmnishError {
  /** The key the error is about, set by validation: `omnish config check` points at its line. */
  readonly target?: ConfigKeyTarget;
  /** Where the parser stopped, for a TOML syntax error: 1-based line and column. */
  readonly position?: { line: number; col: number };
  constructor(message: string, options?: { cause?: unknown; target?: ConfigKeyTarget; position?: { line: number; col: number } }) {
    super(message, options);
    if (options?.target) this.target = options.target;
    if (options?.position) this.position = options.position;
  }
}

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

/** Why an LLM request failed (defined with the wire types: `doctor-llm` results carry it). */
export type { LlmErrorReason } from '../protocol/requests.js';

/**
 * An LLM request failed. The message is one line for the user and starts with the backend's
 * config name (`claude: authentication failed (401): check api_key_cmd`); it never contains a key.
 */
export class LlmBackendError extends OmnishError {
  /** Config name of the backend (`[llm.<name>]`), or "llm" when none is involved. */
  readonly backend: string;
  /** HTTP status of the provider's answer, when there was one. */
  readonly status?: number;
  /** True when trying the same request again may succeed (429, 5xx, network, timeout). */
  readonly retryable: boolean;
  readonly reason: LlmErrorReason;
  /** How long the provider asked us to wait before retrying (ms; from retry-after), when it did. */
  readonly retryAfterMs?: number;
  constructor(
    message: string,
    details: { backend: string; reason: LlmErrorReason; retryable: boolean; status?: number; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, { cause: details.cause });
    this.backend = details.backend;
    this.reason = details.reason;
    this.retryable = details.retryable;
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }
}
