/**
 * config.toml read again while omnishd runs: when the file changes (config-watch.ts), on SIGHUP,
 * on `omnish config reload`, and before each `config-set` (so that `::config llm.default NAME`
 * sees the tables of the file as it is now, even inside the watch's debounce).
 *
 * - The same content is never read twice: a save that changes nothing, or an editor's extra
 *   events, do nothing, and a broken file is logged once, not once per event.
 * - A file that does not load changes nothing: omnishd keeps the configuration in force (the last
 *   one that loaded, or the defaults when none has since it started), and says where the file is
 *   wrong (file, line, key) in its log and in `status`, until a reading loads.
 * - A reload applies what the edit changed. A value set with `omnish config set` (no --save)
 *   stays until the file changes that key; if it no longer fits the edited file (a default naming
 *   a backend the edit removed), the file's values apply and the log says so.
 * - Sessions and requests under way are not touched: the config is changed in place, key by key
 *   (config-requests.ts applyConfig), and an `ask` already sent keeps the backends it started with.
 *
 * Nothing in the file needs a restart of omnishd: every key it reads can change in place. The keys
 * each omnish shell reads when it starts (`[shell]`, `[daemon]`) are reported as applying to
 * shells started from now on; a running shell needs a restart to take them.
 */
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '../common/errors.js';
import { defaultConfig, validateConfig, type OmnishConfig } from '../config/config.js';
import { dotted, readConfigFile, type ConfigFileRead, type ConfigFileProblem } from '../config/file.js';
import { getIn, setIn, specFor, toDoc, type Table } from '../config/keys.js';
import type { ConfigProblem, ConfigReloadResult, ConfigStatus } from '../protocol/index.js';
import { applyConfig, type ConfigTargets } from './config-requests.js';
import type { Logger } from './log.js';

const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** Every value's path in a document (arrays, arrays of tables included, are values). */
function leaves(doc: Table, prefix: string[] = [], out = new Map<string, string[]>()): Map<string, string[]> {
  for (const [k, v] of Object.entries(doc)) {
    const path = [...prefix, k];
    if (isTable(v)) leaves(v, path, out);
    else out.set(JSON.stringify(path), path);
  }
  return out;
}

/** The sections in the order toDoc writes them (that of the docs), for listing changes. */
const SECTIONS = Object.keys(toDoc(defaultConfig()));
const sectionRank = (path: string[]): number => {
  const i = SECTIONS.indexOf(path[0] ?? '');
  return i < 0 ? SECTIONS.length : i;
};

/** Paths of the values that differ between two documents (present in one only included), section by section. */
function changedPaths(a: Table, b: Table): string[][] {
  const all = new Map([...leaves(a), ...leaves(b)]);
  const changed = [...all.values()].filter((path) => !isDeepStrictEqual(getIn(a, path), getIn(b, path)));
  return changed.sort((x, y) => sectionRank(x) - sectionRank(y)); // stable: file order within a section
}

/** Removes tables left empty (a backend whose keys were all deleted), which validation would refuse. */
function prune(doc: Table): void {
  for (const [k, v] of Object.entries(doc)) {
    if (!isTable(v)) continue;
    prune(v);
    if (Object.keys(v).length === 0) delete doc[k];
  }
}

/** True for `[llm.<name>]` backend tables of a document. */
const backendIn = (doc: Table, name: string): boolean => name !== 'auto_trigger' && name !== 'tools' && isTable((doc.llm as Table | undefined)?.[name]);

/** What changed from `before` to `after`, for people: a key, or `[llm.NAME] added` / `removed` for a whole backend. */
export function describeChanges(before: Table, after: Table): string[] {
  const out = new Set<string>();
  for (const path of changedPaths(before, after)) {
    const name = path[1];
    if (path[0] === 'llm' && path.length === 3 && name !== undefined && backendIn(before, name) !== backendIn(after, name)) {
      out.add(`[${dotted(['llm', name])}] ${backendIn(after, name) ? 'added' : 'removed'}`);
    } else out.add(dotted(path));
  }
  return [...out];
}

/** What a reading of the file is, to tell whether the file changed since the last one. */
function fingerprint(read: ConfigFileRead): string {
  if (read.text !== null) return `text:${read.text}`;
  return read.ok ? 'none' : `unreadable:${read.problem.error}`;
}

export class ConfigReloader {
  /** The config omnishd runs with: one object for its whole life, changed in place. */
  readonly config: OmnishConfig;
  /** The file's config as last loaded (the defaults before any): run-time changes are what differs from it. */
  private fromFile: OmnishConfig;
  /** The last reading of the file, loaded or not. */
  private seen: string;
  private source: ConfigStatus['source'];
  private loadedAtMs: number;
  private problem: ConfigProblem | null = null;
  private services: Pick<ConfigTargets, 'llm' | 'sessions'> | undefined;

  /**
   * Reads the file for the first time: `config` is what it gives, or the defaults when it does not load.
   * @param file the config file's path (it need not exist)
   */
  constructor(
    readonly file: string,
    private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>,
    private readonly now: () => number = Date.now,
  ) {
    const read = readConfigFile(file);
    this.seen = fingerprint(read);
    this.loadedAtMs = now();
    if (read.ok) {
      this.config = read.config;
      this.source = read.text === null ? 'defaults' : 'file';
    } else {
      this.config = defaultConfig();
      this.source = 'defaults';
      this.broken(read.problem, 'start');
    }
    this.fromFile = structuredClone(this.config);
  }

  /** The services a reload reaches; needed before the first reload. */
  attach(services: Pick<ConfigTargets, 'llm' | 'sessions'>): void {
    this.services = services;
  }

  /** What is in force, for `status`. */
  status(): ConfigStatus {
    return { file: this.file, source: this.source, loadedAtMs: this.loadedAtMs, problem: this.problem };
  }

  /**
   * Reads the file and, when its content changed and it loads, applies it.
   * @param trigger what asked, for the log ('file change', 'SIGHUP', 'request', 'config-set')
   * @throws only for a bug (a reload before attach); every problem of the file is part of the result
   */
  reload(trigger: string): ConfigReloadResult {
    if (!this.services) throw new Error('ConfigReloader.reload before attach');
    const read = readConfigFile(this.file);
    const print = fingerprint(read);
    if (print === this.seen) return this.result(this.problem ? 'invalid' : 'unchanged');
    this.seen = print;
    if (!read.ok) {
      this.broken(read.problem, trigger);
      return this.result('invalid');
    }
    const wasBroken = this.problem !== null;
    this.problem = null;
    const before = toDoc(this.config);
    applyConfig({ config: this.config, ...this.services }, this.merge(read.config));
    this.fromFile = structuredClone(read.config);
    this.source = read.text === null ? 'defaults' : 'file';
    this.loadedAtMs = this.now();
    const changed = describeChanges(before, toDoc(this.config));
    const newShellsOnly = changed.filter((key) => specFor(key.split('.'))?.reader === 'shell');
    if (changed.length === 0) {
      this.log.info({ file: this.file, trigger }, wasBroken ? 'config file loads again; nothing changed' : 'config file read again; nothing changed');
      return this.result('unchanged');
    }
    this.log.info({ file: this.file, trigger, changed }, wasBroken ? 'config file loads again; reloaded' : 'config reloaded');
    return this.result('reloaded', changed, newShellsOnly);
  }

  /**
   * The config after an edit that gives `next`: the running config with the values the edit
   * changed. Without run-time changes this is `next` itself.
   */
  private merge(next: OmnishConfig): OmnishConfig {
    const base = toDoc(this.fromFile);
    const running = toDoc(this.config);
    if (isDeepStrictEqual(base, running)) return next;
    const target = toDoc(next);
    const merged = structuredClone(running);
    for (const path of changedPaths(base, target)) setIn(merged, path, getIn(target, path));
    prune(merged);
    try {
      return validateConfig(merged, 'omnishd');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const dropped = changedPaths(base, running).map(dotted);
      this.log.warn({ file: this.file, dropped, err: err.message }, 'values set at run time do not fit the edited file; the file applies');
      return next;
    }
  }

  /** Records and logs a reading that did not load; the config in force stays. */
  private broken(p: ConfigFileProblem, trigger: string): void {
    this.problem = { ...p, sinceMs: this.problem?.sinceMs ?? this.now() };
    const keeping = this.source === 'file' ? 'keeping the configuration in force' : 'running on the defaults';
    this.log.error({ file: p.file, line: p.line, col: p.col, key: p.key, err: p.error, trigger }, `config file does not load; ${keeping}`);
  }

  private result(outcome: ConfigReloadResult['outcome'], changed: string[] = [], newShellsOnly: string[] = []): ConfigReloadResult {
    return { outcome, changed, newShellsOnly, config: this.status() };
  }
}
