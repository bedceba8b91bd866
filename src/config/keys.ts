/**
 * The keys `omnish config get/set` knows, who reads each one and whether a running omnishd can take
 * a new value without a restart. Names are the TOML ones (`llm.auto_trigger.cooldown_seconds`); a
 * new config key gets a line here (keys.test.ts checks that config/default.toml has none missing).
 *
 * What may change at run time, and why:
 * - `llm.*`: LlmService reads `config.llm` on every request, and `reconfigure()` drops the backends
 *   it resolved; AutoExplainer reads `llm.auto_trigger` on every failed command. A list in
 *   `llm.auto_trigger.on_stderr_patterns` is the detector's, which is compiled again as for `events.*`.
 * - `events.ignore_exit_codes`, `ignore_commands`, `output_patterns`: the session manager compiles
 *   them into a new detector, used for the commands that finish from then on.
 * - `store.*`: retention reads `config.store` on each pass (hourly, and on `omnish gc`).
 * - `redact.*`: LlmService passes `config.redact` to the context builder on every request.
 * Not at run time: `[shell]`, `[daemon]` and `[session]` are read by each omnish shell when it starts, and a
 * running shell cannot be told. `events.rules` is an array of tables, which `config set` does not
 * write (edit the file: omnishd takes it when the file is saved, src/daemon/config-reload.ts).
 * `reader` is also what a reload of the file reports: a changed `shell` key applies to new shells.
 */
import type { ConfigError } from '../common/errors.js';
import type { LlmBackendConfig, OmnishConfig } from './config.js';
import type { KeyTarget } from './toml-lines.js';

/** A parsed TOML document (or part of one). */
export type Table = Record<string, unknown>;

/** One key of config.toml. */
export interface KeySpec {
  /** Dotted TOML key; `<name>` stands for the name of an `[llm.<name>]` backend table. */
  key: string;
  /** Who reads it: each omnish shell when it starts, or omnishd. */
  reader: 'shell' | 'daemon';
  /** True when `omnish config set` (without --save) may change it in the running omnishd. */
  runtime: boolean;
  /** False for keys `omnish config set` does not write (arrays of tables). */
  settable: boolean;
}

type Getter = (c: OmnishConfig) => unknown;
const spec = (key: string, reader: KeySpec['reader'], runtime: boolean, get: Getter, settable = true) => ({ key, reader, runtime, settable, get });

const STATIC: ReadonlyArray<KeySpec & { get: Getter }> = [
  spec('shell.command', 'shell', false, (c) => c.shell.command),
  spec('shell.strip_marks', 'shell', false, (c) => c.shell.stripMarks),
  spec('shell.command_prefix', 'shell', false, (c) => c.shell.commandPrefix),
  spec('daemon.autostart', 'shell', false, (c) => c.daemon.autostart),
  spec('session.record_input', 'shell', false, (c) => c.session.recordInput),
  spec('store.max_total_mb', 'daemon', true, (c) => c.store.maxTotalMb),
  spec('store.max_session_mb', 'daemon', true, (c) => c.store.maxSessionMb),
  spec('store.max_age_days', 'daemon', true, (c) => c.store.maxAgeDays),
  spec('redact.patterns', 'daemon', true, (c) => c.redact.patterns),
  spec('redact.allow', 'daemon', true, (c) => c.redact.allow),
  spec('events.ignore_exit_codes', 'daemon', true, (c) => c.events.ignoreExitCodes),
  spec('events.ignore_commands', 'daemon', true, (c) => c.events.ignoreCommands),
  spec('events.output_patterns', 'daemon', true, (c) => c.events.outputPatterns),
  spec('events.rules', 'daemon', false, (c) => c.events.rules.map((r) => ({
    name: r.name, pattern: r.pattern, ...(r.command === undefined ? {} : { command: r.command }), ...(r.exitCodes ? { exit_codes: r.exitCodes } : {}),
  })), false),
  spec('llm.default', 'daemon', true, (c) => c.llm.default),
  spec('llm.fallback', 'daemon', true, (c) => c.llm.fallback),
  spec('llm.max_context_tokens', 'daemon', true, (c) => c.llm.maxContextTokens),
  spec('llm.auto_trigger.on_nonzero_exit', 'daemon', true, (c) => c.llm.autoTrigger.onNonzeroExit),
  spec('llm.auto_trigger.on_stderr_patterns', 'daemon', true, (c) => c.events.stderrPatterns ?? c.llm.autoTrigger.onStderrPatterns),
  spec('llm.auto_trigger.cooldown_seconds', 'daemon', true, (c) => c.llm.autoTrigger.cooldownSeconds),
  spec('llm.auto_trigger.max_per_hour', 'daemon', true, (c) => c.llm.autoTrigger.maxPerHour),
  spec('llm.auto_trigger.notify', 'daemon', true, (c) => c.llm.autoTrigger.notify),
  spec('llm.tools.enabled', 'daemon', true, (c) => c.llm.tools.enabled),
  spec('llm.tools.max_calls', 'daemon', true, (c) => c.llm.tools.maxCalls),
  spec('llm.tools.budget_seconds', 'daemon', true, (c) => c.llm.tools.budgetSeconds),
  spec('llm.tools.read_files', 'daemon', true, (c) => c.llm.tools.readFiles),
  spec('llm.tools.read_file_max_bytes', 'daemon', true, (c) => c.llm.tools.readFileMaxBytes),
];

/** Keys of an `[llm.<name>]` table, in the order the docs list them. */
const BACKEND: ReadonlyArray<[field: string, get: (b: LlmBackendConfig) => unknown]> = [
  ['backend', (b) => b.kind], ['model', (b) => b.model], ['base_url', (b) => b.baseUrl], ['api_key_cmd', (b) => b.apiKeyCmd],
  ['api_key_env', (b) => b.apiKeyEnv], ['max_tokens', (b) => b.maxTokens], ['timeout_seconds', (b) => b.timeoutSeconds],
  ['tools', (b) => b.tools],
];

/** Every key, backend keys as `llm.<name>.FIELD`. */
export const KEYS: readonly KeySpec[] = [
  ...STATIC.map(({ key, reader, runtime, settable }) => ({ key, reader, runtime, settable })),
  ...BACKEND.map(([field]) => ({ key: `llm.<name>.${field}`, reader: 'daemon' as const, runtime: true, settable: true })),
];

/** The spec of the key at `path`, or undefined for a key omnish does not have. */
export function specFor(path: readonly string[]): KeySpec | undefined {
  const key = path.join('.');
  const found = KEYS.find((k) => k.key === key);
  if (found) return found;
  if (path.length !== 3 || path[0] !== 'llm' || path[1] === 'auto_trigger' || path[1] === 'tools') return undefined;
  return KEYS.find((k) => k.key === `llm.<name>.${path[2]}`);
}

/** The message for a key that needs a restart. */
export function notAtRunTime(key: string): string {
  return `${key} cannot change at run time; use --save and restart omnish`;
}

/** The value at `path` of a document, or undefined. */
export function getIn(doc: Table, path: readonly string[]): unknown {
  let v: unknown = doc;
  for (const part of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, part)) return undefined;
    v = (v as Table)[part];
  }
  return v;
}

/** Sets the value at `path`, creating the tables on the way (undefined deletes the key). */
export function setIn(doc: Table, path: readonly string[], value: unknown): void {
  let t = doc;
  for (const part of path.slice(0, -1)) {
    const next = t[part];
    t = t[part] = typeof next === 'object' && next !== null && !Array.isArray(next) ? (next as Table) : {};
  }
  const last = path[path.length - 1] ?? '';
  if (value === undefined) delete t[last];
  else t[last] = value;
}

/**
 * A validated config as a TOML document with every key spelled out (defaults included), so that
 * `validateConfig(toDoc(c))` gives `c` again: how omnishd applies one changed key to the config it
 * runs with, and what `omnish config get` prints.
 */
export function toDoc(c: OmnishConfig): Table {
  const doc: Table = {};
  for (const s of STATIC) setIn(doc, s.key.split('.'), s.get(c));
  for (const b of Object.values(c.llm.backends)) {
    for (const [field, get] of BACKEND) setIn(doc, ['llm', b.name, field], get(b));
  }
  return doc;
}

/** Every key that exists in `c`: the fixed ones and those of its backends. */
export function knownKeys(c: OmnishConfig): string[] {
  const backends = Object.keys(c.llm.backends).flatMap((name) => BACKEND.map(([field]) => `llm.${name}.${field}`));
  return [...STATIC.map((s) => s.key), ...backends];
}

/** Edit distance between two strings (insert, delete, replace, swap neighbours: one each). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** Up to 5 of `keys` that `typed` probably meant: a small typo, the same last part, or a part of it. */
export function closeMatches(typed: string, keys: readonly string[]): string[] {
  const last = typed.split('.').pop() ?? typed;
  const scored = keys
    .map((k) => {
      const d = distance(typed, k);
      if (d <= Math.max(2, Math.floor(typed.length / 5))) return { k, score: d };
      if (k.split('.').pop() === last || (typed.length >= 3 && k.includes(typed))) return { k, score: 10 };
      return undefined;
    })
    .filter((x): x is { k: string; score: number } => x !== undefined);
  return scored.sort((a, b) => a.score - b.score).slice(0, 5).map((x) => x.k);
}

/**
 * Which key a ConfigError is about, for pointing at its line: the place validation gave it
 * (ConfigError.target); an error without one points at the whole file.
 * @returns the message without its `FILE: ` prefix, and the target
 */
export function errorTarget(err: ConfigError, file: string): { reason: string; target: KeyTarget } {
  const reason = err.message.startsWith(`${file}: `) ? err.message.slice(file.length + 2) : err.message;
  return { reason, target: err.target ?? { path: [] } };
}
