/**
 * Loading and validating `config.toml` (TOML v1.0 via smol-toml). Every error names the file and
 * the key, so the user knows where to look. A missing file is not an error: defaults apply.
 * The documented template with every key and its default is config/default.toml.
 */
import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { ConfigError } from '../common/errors.js';
import { configPath } from '../common/paths.js';

/** The validated configuration. Sections grow with the features that read them. */
export interface OmnishConfig {
  shell: {
    /** Absolute path (or name on PATH) of the real shell to wrap; undefined = resolve from the environment. */
    command?: string;
  };
  daemon: {
    /** Start omnishd on demand when a shell starts and none runs (default true; false under a service manager). */
    autostart: boolean;
  };
}

/** Defaults for every key (mirrors config/default.toml). */
export function defaultConfig(): OmnishConfig {
  return { shell: {}, daemon: { autostart: true } };
}

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

const KNOWN: Record<string, readonly string[]> = {
  shell: ['command'],
  daemon: ['autostart'],
};

/**
 * Reads and validates the config file.
 * @param path file to read; defaults to `$OMNISH_CONFIG` or the XDG location.
 * @returns the config with defaults filled in (defaults alone when the file does not exist).
 * @throws ConfigError when the file cannot be read, is not valid TOML, or has an unknown or
 *   ill-typed key; the message names the file and the key (and the line for syntax errors).
 */
export function loadConfig(path: string = configPath()): OmnishConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfig();
    throw new ConfigError(`cannot read config ${path}: ${(err as Error).message}`, { cause: err });
  }
  return validateConfig(parseToml(text, path), path);
}

function parseToml(text: string, path: string): Table {
  try {
    return parse(text) as Table;
  } catch (err) {
    if (err instanceof TomlError) {
      const firstLine = err.message.split('\n')[0] ?? err.message;
      throw new ConfigError(`${path}:${err.line}:${err.column}: ${firstLine}`, { cause: err });
    }
    throw err;
  }
}

/**
 * Validates a parsed TOML document.
 * @throws ConfigError naming `path` and the offending key.
 */
export function validateConfig(doc: Table, path: string): OmnishConfig {
  const config = defaultConfig();
  for (const [section, value] of Object.entries(doc)) {
    const keys = KNOWN[section];
    if (!keys) throw new ConfigError(`${path}: unknown section [${section}]`);
    if (!isTable(value)) throw new ConfigError(`${path}: ${section} must be a table ([${section}])`);
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) throw new ConfigError(`${path}: unknown key ${section}.${key}`);
    }
  }
  const shell = doc.shell as Table | undefined;
  if (shell?.command !== undefined) {
    if (typeof shell.command !== 'string' || shell.command.trim() === '') {
      throw new ConfigError(`${path}: shell.command must be a non-empty string (a path such as "/bin/bash")`);
    }
    config.shell.command = shell.command;
  }
  const daemon = doc.daemon as Table | undefined;
  if (daemon?.autostart !== undefined) {
    if (typeof daemon.autostart !== 'boolean') throw new ConfigError(`${path}: daemon.autostart must be true or false`);
    config.daemon.autostart = daemon.autostart;
  }
  return config;
}
