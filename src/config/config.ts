/**
 * Loading and validating `config.toml` (TOML v1.0 via smol-toml). Every error names the file and
 * the key, so the user knows where to look. A missing file is not an error: defaults apply.
 * The documented template with every key and its default is config/default.toml.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as SmolToml from 'smol-toml';
import { ConfigError } from '../common/errors.js';
import { configPath } from '../common/paths.js';
import { invalid, keyAt, type KeyAt } from './invalid.js';
import { defaultLlmConfig, validateLlm, type LlmConfig } from './llm.js';

export type { AutoTriggerConfig, LlmBackendConfig, LlmBackendKind, LlmConfig, LlmToolsConfig } from './llm.js';

/** The validated configuration. Sections grow with the features that read them. */
export interface OmnishConfig {
  shell: {
    /** Absolute path (or name on PATH) of the real shell to wrap; undefined = resolve from the environment. */
    command?: string;
    /** Remove omnish's own shell-integration marks (OSC 133/633 with the session's nonce) from what the terminal shows (default false). */
    stripMarks: boolean;
    /** What starts an omnish command at an empty prompt (default "::"). */
    commandPrefix: string;
  };
  daemon: {
    /** Start omnishd on demand when a shell starts and none runs (default true; false under a service manager). */
    autostart: boolean;
  };
  session: {
    /**
     * Record keystrokes as input records too (default false). Never those typed while the pty does
     * not echo (password prompts); needs the native relay (docs/native.md, "Input recording").
     */
    recordInput: boolean;
  };
  /** The daemon's event detector: what counts as a failed command. */
  events: EventsConfig;
  /** LLM backends, fallback, context budget and auto-explanations (src/config/llm.ts, docs/llm.md). */
  llm: LlmConfig;
  /** Retention of recorded sessions (src/store/retention.ts, docs/store-format.md "Retention"). */
  store: StoreConfig;
  /** The user's additions to secret redaction (src/redact/redact.ts, docs/context.md "Redaction"). */
  redact: RedactConfig;
}

/**
 * `[redact]`: what the user adds to the redaction of everything sent to an LLM. Applied on top of
 * omnish's own detectors, never instead of them.
 */
export interface RedactConfig {
  /**
   * Regular expressions (JavaScript syntax, case-sensitive, `^`/`$` per line); their matches are
   * redacted, only the group named `secret` when there is one. Each compiles and cannot match
   * the empty string (validated).
   */
  patterns: string[];
  /** Literal strings kept in clear: a secret found inside an occurrence of one is left as it is. */
  allow: string[];
}

/**
 * `[store]`: how much recorded terminal output omnishd keeps. 1 MB here is 1,048,576 bytes.
 * 0 turns a limit off.
 */
export interface StoreConfig {
  /** All sessions together, MB (default 1024): the oldest ended sessions are deleted beyond it. */
  maxTotalMb: number;
  /** One session's stream.bin, MB (default 256): an ended session over it keeps its head and tail. */
  maxSessionMb: number;
  /** Ended sessions older than this are deleted, days (default 90). */
  maxAgeDays: number;
}

/** `[events]`: which finished commands produce events (docs/store-format.md, events.jsonl). */
export interface EventsConfig {
  /** Exit statuses that are not failures (130 = Ctrl-C, 141 = SIGPIPE, 148 = stopped with Ctrl-Z). */
  ignoreExitCodes: number[];
  /**
   * Commands (first word, or first word of the last pipeline stage) whose non-zero status is
   * normal and whose output quotes other text (grep, diff, test, ...): no nonzero-exit or
   * output-pattern events for them. User rules still apply.
   */
  ignoreCommands: string[];
  /** Phrases that mark a failure in a command's output: case-insensitive, whole words, any run of spaces matches a space. */
  outputPatterns: string[];
  /**
   * The list form of `[llm.auto_trigger] on_stderr_patterns`: regular expressions (JavaScript
   * syntax, case-insensitive, `^`/`$` per line) searched instead of `outputPatterns`, so that the
   * output-pattern events, and the explanations they trigger, follow that list. Undefined when the
   * key is true or false (or absent).
   */
  stderrPatterns?: string[];
  /** User rules, in file order. */
  rules: EventRule[];
}

/** One `[[events.rules]]`: an event named `name` when all of its conditions hold. */
export interface EventRule {
  /** Name of the event (kind "rule"), for the user. */
  name: string;
  /** Regular expression (JavaScript syntax, case-insensitive, `^`/`$` per line) searched in the output. */
  pattern: string;
  /** Regular expression (case-insensitive) the command line must match; undefined = any command. */
  command?: string;
  /** Exit statuses the command must have ended with; undefined = any. */
  exitCodes?: number[];
}

/** Default `[events] ignore_commands`. */
export const DEFAULT_IGNORE_COMMANDS: readonly string[] = ['grep', 'egrep', 'fgrep', 'rg', 'diff', 'cmp', 'test', '[', '[[', 'false'];
/** Default `[events] output_patterns`. */
export const DEFAULT_OUTPUT_PATTERNS: readonly string[] = [
  'error', 'fatal', 'panic', 'panicked', 'Traceback', 'segmentation fault', 'core dumped', 'permission denied',
  'command not found', 'No such file or directory',
];

/** Defaults for every key (mirrors config/default.toml). */
export function defaultConfig(): OmnishConfig {
  return {
    shell: { stripMarks: false, commandPrefix: '::' },
    daemon: { autostart: true },
    session: { recordInput: false },
    events: {
      ignoreExitCodes: [130, 141, 148],
      ignoreCommands: [...DEFAULT_IGNORE_COMMANDS],
      outputPatterns: [...DEFAULT_OUTPUT_PATTERNS],
      rules: [],
    },
    llm: defaultLlmConfig(),
    store: { maxTotalMb: 1024, maxSessionMb: 256, maxAgeDays: 90 },
    redact: { patterns: [], allow: [] },
  };
}

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

const KNOWN: Record<string, readonly string[]> = {
  shell: ['command', 'strip_marks', 'command_prefix'],
  daemon: ['autostart'],
  session: ['record_input'],
  events: ['ignore_exit_codes', 'ignore_commands', 'output_patterns', 'rules'],
  store: ['max_total_mb', 'max_session_mb', 'max_age_days'],
  redact: ['patterns', 'allow'],
};

let tomlModule: typeof SmolToml | undefined;

/**
 * The TOML parser, loaded on first use: most shell starts have no config file to parse, and loading
 * it costs about 10 ms of start-up (docs/benchmarks.md). Synchronous, through its CommonJS build.
 */
function toml(): typeof SmolToml {
  tomlModule ??= createRequire(import.meta.url)('smol-toml') as typeof SmolToml;
  return tomlModule;
}

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
  return parseConfig(text, path);
}

/**
 * Parses and validates the text of a config file.
 * @param path the file's name, for messages
 * @throws ConfigError as loadConfig does; a syntax error carries its `position`, a bad key its `target`
 */
export function parseConfig(text: string, path: string): OmnishConfig {
  return validateConfig(parseToml(text, path), path);
}

function parseToml(text: string, path: string): Table {
  try {
    return toml().parse(text) as Table;
  } catch (err) {
    if (err instanceof toml().TomlError) {
      const firstLine = err.message.split('\n')[0] ?? err.message;
      throw new ConfigError(`${path}:${err.line}:${err.column}: ${firstLine}`, { cause: err, position: { line: err.line, col: err.column } });
    }
    throw err;
  }
}

/**
 * Validates a parsed TOML document.
 * @throws ConfigError naming `path` and the offending key, with the key's place in `target`.
 */
export function validateConfig(doc: Table, path: string): OmnishConfig {
  const config = defaultConfig();
  for (const [section, value] of Object.entries(doc)) {
    if (section === 'llm') continue; // its sub-tables are named by the user: validateLlm checks it
    const keys = KNOWN[section];
    if (!keys) throw invalid(path, { path: [section] }, `unknown section [${section}]`);
    if (!isTable(value)) throw invalid(path, { path: [section] }, `${section} must be a table ([${section}])`);
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) throw invalid(path, { path: [section, key] }, `unknown key ${section}.${key}`);
    }
  }
  const shell = doc.shell as Table | undefined;
  if (shell?.command !== undefined) {
    if (typeof shell.command !== 'string' || shell.command.trim() === '') {
      throw invalid(path, { path: ['shell', 'command'] }, 'shell.command must be a non-empty string (a path such as "/bin/bash")');
    }
    config.shell.command = shell.command;
  }
  const daemon = doc.daemon as Table | undefined;
  if (daemon?.autostart !== undefined) {
    config.daemon.autostart = bool(daemon.autostart, keyAt('daemon', 'autostart'), path);
  }
  const session = doc.session as Table | undefined;
  if (session?.record_input !== undefined) {
    config.session.recordInput = bool(session.record_input, keyAt('session', 'record_input'), path);
  }
  if (shell?.strip_marks !== undefined) config.shell.stripMarks = bool(shell.strip_marks, keyAt('shell', 'strip_marks'), path);
  if (shell?.command_prefix !== undefined) {
    const prefix = shell.command_prefix;
    // Printable ASCII only: the client matches the prefix byte by byte as it is typed.
    if (typeof prefix !== 'string' || !/^[\x21-\x7e]{1,8}$/.test(prefix)) {
      throw invalid(path, { path: ['shell', 'command_prefix'] }, 'shell.command_prefix must be 1 to 8 printable ASCII characters without spaces, such as "::"');
    }
    config.shell.commandPrefix = prefix;
  }
  const events = doc.events as Table | undefined;
  if (events) validateEvents(events, config.events, path);
  if (doc.llm !== undefined) {
    config.llm = validateLlm(doc.llm, path);
    // validateLlm has checked the key (and that both tables are tables); a list is the detector's.
    const patterns = ((doc.llm as Table).auto_trigger as Table | undefined)?.on_stderr_patterns;
    if (Array.isArray(patterns)) config.events.stderrPatterns = patterns as string[];
  }
  const store = doc.store as Table | undefined;
  if (store?.max_total_mb !== undefined) config.store.maxTotalMb = limit(store.max_total_mb, keyAt('store', 'max_total_mb'), 'MB', path);
  if (store?.max_session_mb !== undefined) config.store.maxSessionMb = limit(store.max_session_mb, keyAt('store', 'max_session_mb'), 'MB', path);
  if (store?.max_age_days !== undefined) config.store.maxAgeDays = limit(store.max_age_days, keyAt('store', 'max_age_days'), 'days', path);
  const redact = doc.redact as Table | undefined;
  if (redact?.patterns !== undefined) config.redact.patterns = redactPatterns(redact.patterns, path);
  if (redact?.allow !== undefined) {
    if (!Array.isArray(redact.allow) || !redact.allow.every((x) => typeof x === 'string' && x !== '')) {
      throw invalid(path, { path: ['redact', 'allow'] }, 'redact.allow must be an array of non-empty strings (text kept in clear), e.g. ["AKIAIOSFODNN7EXAMPLE"]');
    }
    config.redact.allow = redact.allow as string[];
  }
  return config;
}

/**
 * `[redact] patterns`: each must compile with the flags redaction uses (`dgm`) and must not match
 * the empty string (`|x`, `x*`: a slip that would match everywhere and redact nothing).
 * @throws ConfigError naming `path`, the key and the entry (1-based).
 */
function redactPatterns(v: unknown, path: string): string[] {
  const target = { path: ['redact', 'patterns'] };
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw invalid(path, target, "redact.patterns must be an array of regular expressions (strings), e.g. ['ACME-[0-9A-F]{32}']");
  }
  v.forEach((source: string, i) => {
    const entry = `redact.patterns entry ${i + 1} (${JSON.stringify(source)})`;
    let re: RegExp;
    try {
      re = new RegExp(source, 'dgm');
    } catch (err) {
      throw invalid(path, target, `${entry} is not a valid regular expression: ${(err as Error).message}`, err);
    }
    if (re.test('')) throw invalid(path, target, `${entry} matches the empty string; a pattern must match some text`);
  });
  return v as string[];
}

/** A size or age limit: a finite number >= 0 (TOML integer or float; 0 = no limit). */
function limit(v: unknown, key: KeyAt, unit: string, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw invalid(path, key.target, `${key.name} must be a number of ${unit}, 0 or more (0 = no limit)`);
  }
  return v;
}

function bool(v: unknown, key: KeyAt, path: string): boolean {
  if (typeof v !== 'boolean') throw invalid(path, key.target, `${key.name} must be true or false`);
  return v;
}

function intArray(v: unknown, key: KeyAt, path: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0 && x <= 255)) {
    throw invalid(path, key.target, `${key.name} must be an array of exit statuses (integers 0-255), e.g. [130, 141]`);
  }
  return v as number[];
}

function stringArray(v: unknown, key: KeyAt, path: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.trim() !== '')) {
    throw invalid(path, key.target, `${key.name} must be an array of non-empty strings`);
  }
  return v as string[];
}

function regex(v: unknown, key: KeyAt, path: string): string {
  if (typeof v !== 'string' || v === '') throw invalid(path, key.target, `${key.name} must be a non-empty string (a regular expression)`);
  try {
    new RegExp(v, 'im');
  } catch (err) {
    throw invalid(path, key.target, `${key.name} is not a valid regular expression: ${(err as Error).message}`, err);
  }
  return v;
}

const RULE_KEYS = ['name', 'pattern', 'command', 'exit_codes'];

/** Validates `[events]` into `out`. @throws ConfigError naming `path` and the key. */
function validateEvents(events: Table, out: EventsConfig, path: string): void {
  if (events.ignore_exit_codes !== undefined) out.ignoreExitCodes = intArray(events.ignore_exit_codes, keyAt('events', 'ignore_exit_codes'), path);
  if (events.ignore_commands !== undefined) out.ignoreCommands = stringArray(events.ignore_commands, keyAt('events', 'ignore_commands'), path);
  if (events.output_patterns !== undefined) out.outputPatterns = stringArray(events.output_patterns, keyAt('events', 'output_patterns'), path);
  if (events.rules === undefined) return;
  if (!Array.isArray(events.rules) || !events.rules.every(isTable)) {
    throw invalid(path, { path: ['events', 'rules'] }, 'events.rules must be written as [[events.rules]] tables');
  }
  out.rules = events.rules.map((rule: Table, i) => {
    const where = `[[events.rules]] #${i + 1}`; // 1-based: the user counts the tables in the file
    const target = (key: string) => ({ path: [key], array: { path: ['events', 'rules'], index: i + 1 } });
    for (const key of Object.keys(rule)) {
      if (!RULE_KEYS.includes(key)) throw invalid(path, target(key), `unknown key ${key} in ${where} (known: ${RULE_KEYS.join(', ')})`);
    }
    if (typeof rule.name !== 'string' || rule.name.trim() === '') throw invalid(path, target('name'), `${where}: name must be a non-empty string`);
    const at = (key: string): KeyAt => ({ name: `${where} ("${rule.name as string}"): ${key}`, target: target(key) });
    if (rule.pattern === undefined) throw invalid(path, target('pattern'), `${where} ("${rule.name}"): pattern is required`);
    const parsed: EventRule = { name: rule.name, pattern: regex(rule.pattern, at('pattern'), path) };
    if (rule.command !== undefined) parsed.command = regex(rule.command, at('command'), path);
    if (rule.exit_codes !== undefined) parsed.exitCodes = intArray(rule.exit_codes, at('exit_codes'), path);
    return parsed;
  });
}
