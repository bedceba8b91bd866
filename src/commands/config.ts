/**
 * `omnish config` / `::config`: show, change and check config.toml (docs/configuration.md).
 *
 *   config path                 the file's path (it need not exist)
 *   config get [KEY] [--json]   the value in effect (every key without KEY)
 *   config set KEY VALUE        change KEY in the running omnishd; --save writes the file too
 *   config reload [--json]      make omnishd read the file again now (it also does when the file is saved)
 *   config check [FILE]         validate; errors as FILE:LINE:COL: message
 *   config KEY [VALUE]          short for get / set
 *
 * "In effect": keys a running omnishd can change (src/config/keys.ts) come from omnishd when it
 * runs, since `set` without --save changes only omnishd; the others, and every key when no omnishd
 * runs, come from the file, or the default. The TOML modules load on first use.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError, DaemonUnavailableError, isUserFacing, OmnishError, UsageError } from '../common/errors.js';
import { configPath } from '../common/paths.js';
import { request } from '../control/request.js';
import { safeJson, sanitizeLine } from '../common/sanitize.js';
import type { ConfigReloadResult, ConfigSetResult } from '../protocol/index.js';
import { ConnectError } from '../transport/index.js';
import { problemMessage, readConfigFile } from '../config/file.js';
import { keptText, problemLine } from './config-problem.js';
import { defaultConfig, validateConfig, type OmnishConfig } from '../config/config.js';
import { closeMatches, errorTarget, getIn, KEYS, knownKeys, notAtRunTime, setIn, specFor, toDoc, type Table } from '../config/keys.js';
import type { CommandIo } from './io.js';
import type { CommandSpec } from './registry.js';

const toml = () => import('smol-toml');
const edit = () => import('../config/edit.js');

/** The file's text ('' when it does not exist) and document. @throws ConfigError `FILE:LINE:COL: …` for bad TOML */
async function readDoc(file: string): Promise<{ text: string; doc: Table }> {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  const { parse, TomlError } = await toml();
  try {
    return { text, doc: parse(text) };
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    throw new ConfigError(`${file}:${err.line}:${err.column}: ${err.message.split('\n')[0]}`, { cause: err });
  }
}

/** `FILE:LINE:COL: reason` for a validation error, at the line of the key it names. */
async function located(text: string, file: string, err: ConfigError): Promise<string> {
  const { reason, target } = errorTarget(err, file);
  const { locateKey } = await import('../config/toml-lines.js');
  const { line, col } = locateKey(text, target);
  return `${file}:${line}:${col}: ${reason}`;
}

/** The file's config. @throws ConfigError, located, when the file is not valid */
async function fileConfig(file: string): Promise<{ text: string; doc: Table; config: OmnishConfig }> {
  const { text, doc } = await readDoc(file);
  try {
    return { text, doc, config: validateConfig(doc, file) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(await located(text, file, err), { cause: err });
  }
}

function unknownKey(key: string, config: OmnishConfig): UsageError {
  const near = closeMatches(key, knownKeys(config));
  return new UsageError(`unknown key '${key}'${near.length ? `; did you mean ${near.join(', ')}?` : '; omnish config get lists every key'}`);
}

function keyPath(key: string, parse: (k: string) => string[] | undefined): string[] {
  const path = parse(key);
  if (!path) throw new UsageError(`'${key}' is not a key: write it dotted, e.g. llm.auto_trigger.cooldown_seconds`);
  return path;
}

/** omnishd's config as a document, or undefined when none answers (or it is too old to say). */
async function daemonDoc(): Promise<Table | undefined> {
  try {
    return await request('config-get');
  } catch (err) {
    if (isUserFacing(err)) return undefined;
    throw err;
  }
}

/** The document in effect: the file's (defaults filled in) with omnishd's values for its run-time keys. */
export async function effectiveDoc(fileOnly = false): Promise<{ doc: Table; config: OmnishConfig }> {
  const { doc: raw, config } = await fileConfig(configPath());
  const doc = toDoc(config);
  for (const section of Object.keys(raw)) doc[section] ??= raw[section]; // a section keys.ts does not know yet
  const running = fileOnly ? undefined : await daemonDoc();
  if (!running) return { doc, config };
  for (const k of KEYS) if (k.runtime && !k.key.includes('<')) setIn(doc, k.key.split('.'), getIn(running, k.key.split('.')));
  // Backend tables: omnishd's set replaces the file's (set may have changed any of their keys).
  const backends = (d: Table) => Object.entries((d.llm ?? {}) as Table).filter(([name, v]) => name !== 'auto_trigger' && name !== 'tools' && typeof v === 'object' && v !== null && !Array.isArray(v));
  for (const [name] of backends(doc)) setIn(doc, ['llm', name], undefined);
  for (const [name, table] of backends(running)) setIn(doc, ['llm', name], table);
  return { doc, config };
}

const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** `config get [KEY]`. */
export async function configGet(out: CommandIo, key?: string, opts: { json?: boolean; file?: boolean } = {}): Promise<void> {
  const { doc, config } = await effectiveDoc(opts.file === true);
  const { stringify } = await toml();
  if (key === undefined) return out.out(opts.json ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc) + '\n');
  const path = keyPath(key, (await edit()).parseDottedKey);
  const value = getIn(doc, path);
  if (value === undefined) {
    if (!specFor(path)) throw unknownKey(key, config);
    if (opts.json) return out.out('null\n');
    out.err(`${key} is not set\n`);
    return out.setExitCode(1);
  }
  if (opts.json) return out.out(`${JSON.stringify(value, null, 2)}\n`);
  if (isTable(value) || (Array.isArray(value) && value.length > 0 && value.every(isTable))) {
    const nested: Table = {};
    setIn(nested, path, value);
    return out.out(stringify(nested) + '\n');
  }
  // Plain text for a string, so that `$(omnish config get llm.default)` needs no unquoting.
  out.out(`${typeof value === 'string' ? value : (await edit()).formatValue(value)}\n`);
}

/** Sends the change to omnishd. @throws DaemonUnavailableError when none runs */
function setInDaemon(path: string[], value: unknown): Promise<ConfigSetResult> {
  return request('config-set', { path, value });
}

/** `config set KEY VALUE [--save]`. A refused value changes nothing anywhere (exit status 2). */
export async function configSet(out: CommandIo, key: string, valueText: string, opts: { save?: boolean } = {}): Promise<void> {
  const file = configPath();
  const { parseDottedKey, parseValue, formatValue, setKey, writeFileAtomic } = await edit();
  const path = keyPath(key, parseDottedKey);
  const spec = specFor(path);
  if (!spec) {
    const { doc } = await readDoc(file).catch(() => ({ doc: {} }));
    let config = defaultConfig();
    try {
      config = validateConfig(doc, file);
    } catch {
      // a broken file still lets us suggest the fixed keys
    }
    throw unknownKey(key, config);
  }
  if (!spec.settable) throw new UsageError(`${key} cannot be set with omnish config set; edit its [[${key}]] tables in ${file}`);
  const value = parseValue(valueText);
  if (!opts.save) {
    if (!spec.runtime) throw new UsageError(notAtRunTime(key));
    const result = await setInDaemon(path, value).catch((err: unknown) => {
      if (!(err instanceof DaemonUnavailableError)) throw err;
      throw new DaemonUnavailableError(`omnishd is not running, so there is nothing to change at run time; add --save to write ${file}`, { cause: err });
    });
    if (!result.ok) throw new UsageError(result.error ?? `cannot set ${key}`);
    return out.out(`${key} = ${formatValue(result.value)} in omnishd until it stops (add --save to keep it)\n`);
  }

  const { text, doc } = await readDoc(file);
  const next = structuredClone(doc);
  setIn(next, path, value);
  try {
    validateConfig(next, file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new UsageError(`cannot set ${key}: ${errorTarget(err, file).reason}`, { cause: err });
  }
  const edited = setKey(text, path, value);
  // The line editor must say exactly what the document says: anything else means a form of TOML
  // it does not handle, and the user's file is worth more than a clever guess.
  const plain = (d: unknown): unknown => JSON.parse(JSON.stringify(d));
  if (!isDeepStrictEqual(plain((await toml()).parse(edited)), plain(next))) {
    throw new OmnishError(`cannot change ${key} in ${file} without disturbing the rest of it; edit it by hand`);
  }
  writeFileAtomic(file, edited);
  const shown = `${key} = ${formatValue(value)}`;
  if (!spec.runtime) return out.out(`${shown} saved to ${file}; omnish shells started from now on use it\n`);
  const result = await setInDaemon(path, value).catch((err: unknown) => {
    if (err instanceof DaemonUnavailableError) return undefined;
    throw err;
  });
  if (!result) return out.out(`${shown} saved to ${file} (omnishd is not running; it reads the file when it starts)\n`);
  out.out(`${shown} saved to ${file}${result.ok ? ' and in use by omnishd' : ''}\n`);
  if (!result.ok) out.err(`omnishd keeps its current value until it restarts: ${result.error}\n`);
}

/** `config check [FILE]`: `FILE: ok`, or one `FILE:LINE:COL: message` line and exit status 1. */
export async function configCheck(out: CommandIo, fileArg?: string): Promise<void> {
  const file = fileArg ?? configPath();
  try {
    readFileSync(file);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    if (missing && fileArg === undefined) return out.out(`${file}: ok (no file: the defaults apply)\n`);
    out.err(`${file}: cannot read: ${missing ? 'no such file' : (err as Error).message}\n`);
    return out.setExitCode(1);
  }
  try {
    await fileConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    out.err(`${err.message}\n`);
    return out.setExitCode(1);
  }
  out.out(`${file}: ok\n`);
}

/** True when a request failed because nothing listens on the socket (no omnishd, or a dead one's socket). */
function notRunning(err: unknown): boolean {
  const cause = (err as { cause?: unknown }).cause;
  return err instanceof DaemonUnavailableError && cause instanceof ConnectError && (cause.code === 'ENOENT' || cause.code === 'ECONNREFUSED');
}

/**
 * `config reload`: omnishd reads the file again now, and this says what happened: `reloaded` with
 * what changed, `unchanged`, or the file's error (`FILE:LINE:COL: …`, exit status 1) while omnishd
 * keeps what it had. With no omnishd running, the file is checked here (it is read when omnishd
 * starts). What it prints about the file is sanitized: an error may quote the file.
 */
export async function configReload(out: CommandIo, opts: { json?: boolean } = {}): Promise<void> {
  let result: ConfigReloadResult;
  try {
    result = await request('config-reload');
  } catch (err) {
    if (!notRunning(err)) throw err;
    const read = readConfigFile(configPath());
    if (opts.json) out.out(`${safeJson({ daemon: null, file: configPath(), problem: read.ok ? null : read.problem })}\n`);
    if (!read.ok) {
      if (!opts.json) out.err(`${sanitizeLine(problemMessage(read.problem))}\n`);
      return out.setExitCode(1);
    }
    if (!opts.json) out.out(`omnishd is not running; ${configPath()} is valid, and omnishd reads it when it starts\n`);
    return;
  }
  const { file, problem } = result.config;
  if (opts.json) out.out(`${safeJson(result)}\n`);
  else if (result.outcome === 'invalid' && problem) {
    out.err(`${sanitizeLine(problemLine(problem))}\n`);
    out.err(`${keptText(result.config)}\n`);
  } else if (result.outcome === 'reloaded') {
    out.out(sanitizeLine(`reloaded ${file}: ${result.changed.join(', ')}`) + '\n');
    if (result.newShellsOnly.length > 0) {
      const keys = result.newShellsOnly.join(', ');
      out.out(`${keys}: omnish shells started from now on use the new value; a running shell needs a restart to take it\n`);
    }
  } else {
    out.out(sanitizeLine(`${file}: unchanged, omnishd already runs with ${result.config.source === 'file' ? 'it' : 'the defaults (no file)'}`) + '\n');
  }
  if (result.outcome === 'invalid') out.setExitCode(1);
}

const VALUE_HELP = 'a TOML value: true, 30, "some text", ["a", "b"] (a bare word such as openai is text)';

const KEY_ARG = { name: '[key]', description: 'a dotted key, e.g. llm.default' };

const pathCommand: CommandSpec<[]> = {
  name: 'path',
  summary: 'print the config file path (it need not exist)',
  usage: {},
  run: (io) => io.out(`${configPath()}\n`),
};

const getCommand: CommandSpec<[string | undefined], { json?: boolean; file?: boolean }> = {
  name: 'get',
  summary: 'print the value of KEY in effect (every key without KEY)',
  usage: {
    arguments: [KEY_ARG],
    options: [{ flags: '--json', description: 'print JSON' }, { flags: '--file', description: "the file's value (or the default), not the running omnishd's" }],
  },
  run: (io, [key], opts) => configGet(io, key, opts),
};

const setCommand: CommandSpec<[string, string], { save?: boolean }> = {
  name: 'set',
  summary: 'change KEY in the running omnishd; --save writes it to the file too',
  usage: {
    arguments: [{ ...KEY_ARG, name: '<key>' }, { name: '<value>', description: VALUE_HELP }],
    options: [{ flags: '--save', description: 'also write it to the config file (comments and the rest kept)' }],
  },
  run: (io, [key, value], opts) => configSet(io, key, value, opts),
};

const reloadCommand: CommandSpec<[], { json?: boolean }> = {
  name: 'reload',
  summary: 'make the running omnishd read the config file again now, and say what changed',
  usage: {
    options: [{ flags: '--json', description: 'print JSON: {outcome: "reloaded"|"unchanged"|"invalid", changed, newShellsOnly, config}' }],
    after: '\nomnishd also reads the file again by itself when it is saved, and on SIGHUP.\nExit status: 0 when the file loads, 1 when it does not (omnishd then keeps what it had).\n',
  },
  run: (io, _args, opts) => configReload(io, opts),
};

const checkCommand: CommandSpec<[string | undefined]> = {
  name: 'check',
  summary: 'validate the config file (or FILE): FILE:LINE:COL: message',
  usage: { arguments: [{ name: '[file]' }] },
  run: (io, [file]) => configCheck(io, file),
};

/** `config KEY [VALUE]`: the short forms of get and set. */
const shortForm: CommandSpec<[string | undefined, string | undefined], { json?: boolean; file?: boolean; save?: boolean }> = {
  name: 'key',
  summary: '',
  usage: { implicit: true, arguments: [{ name: '[key]' }, { name: '[value]' }], options: [{ flags: '--json' }, { flags: '--file' }, { flags: '--save' }] },
  run: (io, [key, value], opts) => (value === undefined ? configGet(io, key, opts) : configSet(io, key ?? '', value, opts)),
};

export const configCommand: CommandSpec = {
  name: 'config',
  summary: 'show, change and check the configuration',
  usage: {
    after: '\nShort forms: config KEY (get), config KEY VALUE [--save] (set). Keys: docs/configuration.md\n' +
      'Examples:\n  omnish config get llm.default\n  omnish config set llm.auto_trigger.cooldown_seconds 60 --save\n  ::config llm.default openai\n',
    subcommands: [pathCommand, getCommand, setCommand, reloadCommand, checkCommand, shortForm],
  },
};
