/**
 * Reading config.toml for those who must say where it is wrong: omnishd, which reads it again while
 * it runs and reports a broken edit in `omnish status`, and `omnish doctor`. A problem is located as
 * `omnish config check` locates it: the file, the 1-based line and column, and the key.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../common/errors.js';
import { defaultConfig, parseConfig, type OmnishConfig } from './config.js';
import { errorTarget } from './keys.js';
import { locateKey, type KeyTarget } from './toml-lines.js';

/** Why the config file does not load, and where. */
export interface ConfigFileProblem {
  /** The config file's path. */
  file: string;
  /** 1-based line of the key (or of a syntax error); absent when the file cannot be read at all. */
  line?: number;
  /** 1-based column, with `line`. */
  col?: number;
  /** The key, dotted (`llm.claude.model`, `events.rules[2].pattern`); absent for a syntax error or an unreadable file. */
  key?: string;
  /** What is wrong, without the file's name: `llm.default must name a [llm.<name>] table (have: a)`. */
  error: string;
}

/** What reading the file gave: its text (null when there is no file) and the config, or the problem. */
export type ConfigFileRead =
  | { ok: true; text: string | null; config: OmnishConfig }
  | { ok: false; text: string | null; problem: ConfigFileProblem };

const BARE = /^[A-Za-z0-9_-]+$/;
/** A key's parts as the user writes them: `llm.claude.model`, `llm."my model".model`. */
export const dotted = (path: readonly string[]): string => path.map((p) => (BARE.test(p) ? p : JSON.stringify(p))).join('.');

/** The key a validation error is about, as the user writes it; undefined for the whole file. */
export function keyName(target: KeyTarget): string | undefined {
  if (target.array) {
    const table = `${dotted(target.array.path)}[${target.array.index}]`;
    return target.path.length > 0 ? `${table}.${dotted(target.path)}` : table;
  }
  return target.path.length > 0 ? dotted(target.path) : undefined;
}

/** `FILE:LINE:COL: error`, or `FILE: error` without a line. */
export function problemMessage(p: ConfigFileProblem): string {
  return p.line === undefined ? `${p.file}: ${p.error}` : `${p.file}:${p.line}:${p.col ?? 1}: ${p.error}`;
}

/**
 * Reads and validates `file`. A missing file is the defaults, as for loadConfig.
 * @throws only for a bug: every problem of the file is part of the result
 */
export function readConfigFile(file: string): ConfigFileRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, text: null, config: defaultConfig() };
    return { ok: false, text: null, problem: { file, error: `cannot read: ${(err as Error).message}` } };
  }
  try {
    return { ok: true, text, config: parseConfig(text, file) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { ok: false, text, problem: locate(err, text, file) };
  }
}

/** Where `err` (from parseConfig of `text`) is in the file. */
function locate(err: ConfigError, text: string, file: string): ConfigFileProblem {
  if (err.position) {
    const { line, col } = err.position;
    const prefix = `${file}:${line}:${col}: `;
    return { file, line, col, error: err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message };
  }
  const { reason, target } = errorTarget(err, file);
  const key = keyName(target);
  let at = { line: 1, col: 1 };
  try {
    at = locateKey(text, target);
  } catch {
    // the scanner refused text that smol-toml parsed: the error still names the key
  }
  return { file, ...at, ...(key === undefined ? {} : { key }), error: reason };
}
