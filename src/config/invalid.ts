/**
 * How validation names a key and raises a ConfigError about it: the message reads `FILE: KEY …`
 * for the user, and the error carries the key's place in the file (ConfigError.target), so
 * `omnish config check` points at its line without reading the message.
 */
import { ConfigError, type ConfigKeyTarget } from '../common/errors.js';

/** A key as validation names it: its name in messages, and where it is in the file. */
export interface KeyAt {
  /** As messages write it: dotted (`llm.auto_trigger.notify`), or `[[events.rules]] #2 ("x"): pattern`. */
  name: string;
  target: ConfigKeyTarget;
}

/** The key at `path` (its TOML parts, unquoted), named dotted. */
export function keyAt(...path: string[]): KeyAt {
  return { name: path.join('.'), target: { path } };
}

/**
 * The error `FILE: TEXT` about the key at `target`.
 * @param file the config file's path (or what stands for it), the message's prefix
 */
export function invalid(file: string, target: ConfigKeyTarget, text: string, cause?: unknown): ConfigError {
  return new ConfigError(`${file}: ${text}`, cause === undefined ? { target } : { target, cause });
}
