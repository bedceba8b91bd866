/**
 * The `[llm]` section of config.toml: which LLM backends exist, which one answers, what is tried
 * when it fails, and when failures are explained automatically. Documented in docs/llm.md and
 * config/default.toml. Keys never come from the file itself: only `api_key_cmd` or `api_key_env`.
 */
import { invalid, keyAt, type KeyAt } from './invalid.js';

/** Which provider API a backend speaks. */
export type LlmBackendKind = 'anthropic' | 'openai_compat';

/** One `[llm.<name>]` table. */
export interface LlmBackendConfig {
  /** The table's name, used in messages and logs (`claude` for `[llm.claude]`). */
  name: string;
  /** TOML `backend`. */
  kind: LlmBackendKind;
  /** Model id sent to the provider (`claude-sonnet-4-5`, `gpt-4o-mini`, `llama3.2`, ...). */
  model: string;
  /** API root; undefined = the provider's public API. OpenAI-compatible roots end in `/v1`. */
  baseUrl?: string;
  /** Shell command (run with /bin/sh -c) that prints the key on stdout. */
  apiKeyCmd?: string;
  /** Name of the daemon's environment variable that holds the key. */
  apiKeyEnv?: string;
  /** Upper bound on the answer's length, in tokens (default 1024). */
  maxTokens: number;
  /** Seconds to wait for the response to start, and then between streamed events (default 60). */
  timeoutSeconds: number;
  /** TOML `tools`: false sends no tools to this backend (a model without tool use); default true. */
  tools?: boolean;
}

/** `[llm.tools]`: the tools the model may call while it answers (docs/llm.md, "Tools"). */
export interface LlmToolsConfig {
  /** Offer tools at all (default true); false = the single-shot context only. */
  enabled: boolean;
  /** Most tool calls in one answer (default 8; 0 = no tools). */
  maxCalls: number;
  /** Seconds after which no further tool is run and the model must answer (default 30). */
  budgetSeconds: number;
  /** Offer read_file: text files under the session's directory or named in the context (default false). */
  readFiles: boolean;
  /** Largest part of a file read_file returns, bytes (default 32768). */
  readFileMaxBytes: number;
}

/** `[llm.auto_trigger]`: when a failed command is explained without being asked. */
export interface AutoTriggerConfig {
  /** Explain commands that exit with a non-zero status (default true). */
  onNonzeroExit: boolean;
  /**
   * Explain commands with an output-pattern event (default true). True also when the TOML key is a
   * list of patterns: the list itself is `EventsConfig.stderrPatterns`, since the detector uses it.
   */
  onStderrPatterns: boolean;
  /** Seconds after an auto-explanation during which no other is started in that session (default 30). */
  cooldownSeconds: number;
  /** At most this many auto-explanations per hour, all sessions together (default 20; 0 = none). */
  maxPerHour: number;
  /** Also send a desktop notification (notify-send) with each explanation (default false). */
  notify: boolean;
}

/** The validated `[llm]` section. */
export interface LlmConfig {
  /** Name of the backend that answers; undefined with no backend tables (defaults apply, docs/llm.md). */
  default?: string;
  /** Backends tried in order when the default fails before answering. */
  fallback: string[];
  /** Budget of the context sent with a question, in tokens (default 8000). */
  maxContextTokens: number;
  /** Every `[llm.<name>]` table, by name, in file order. */
  backends: Record<string, LlmBackendConfig>;
  autoTrigger: AutoTriggerConfig;
  tools: LlmToolsConfig;
}

/** Default `max_tokens` of a backend (tokens). */
export const DEFAULT_MAX_TOKENS = 1024;
/** Default `timeout_seconds` of a backend. */
export const DEFAULT_TIMEOUT_SECONDS = 60;

/** Defaults for `[llm]` (mirrors config/default.toml). */
export function defaultLlmConfig(): LlmConfig {
  return {
    fallback: [],
    maxContextTokens: 8000,
    backends: {},
    autoTrigger: { onNonzeroExit: true, onStderrPatterns: true, cooldownSeconds: 30, maxPerHour: 20, notify: false },
    tools: { enabled: true, maxCalls: 8, budgetSeconds: 30, readFiles: false, readFileMaxBytes: 32_768 },
  };
}

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

const LLM_KEYS = ['default', 'fallback', 'max_context_tokens'];
const AUTO_TRIGGER_KEYS = ['on_nonzero_exit', 'on_stderr_patterns', 'cooldown_seconds', 'max_per_hour', 'notify'];
const TOOLS_KEYS = ['enabled', 'max_calls', 'budget_seconds', 'read_files', 'read_file_max_bytes'];
const BACKEND_KEYS = ['backend', 'model', 'base_url', 'api_key_cmd', 'api_key_env', 'max_tokens', 'timeout_seconds', 'tools'];
/** Sub-tables of `[llm]` that are not backends: no backend may have these names. */
export const LLM_SECTIONS = ['auto_trigger', 'tools'];
const KINDS: readonly LlmBackendKind[] = ['anthropic', 'openai_compat'];

/** True when `url`'s host is this machine, where a server may need no key (Ollama, LM Studio, vLLM). */
export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/**
 * Validates a parsed `[llm]` table.
 * @throws ConfigError naming `path` and the key: unknown keys, wrong types, an unknown backend kind, a
 *   missing model or key source, a plaintext `api_key`, a default or fallback naming no backend.
 */
export function validateLlm(llm: unknown, path: string): LlmConfig {
  if (!isTable(llm)) throw invalid(path, { path: ['llm'] }, 'llm must be a table ([llm])');
  const out = defaultLlmConfig();
  for (const [key, value] of Object.entries(llm)) {
    if (key === 'auto_trigger') out.autoTrigger = autoTrigger(value, path);
    else if (key === 'tools') out.tools = toolsTable(value, path);
    else if (isTable(value)) out.backends[key] = backend(key, value, path);
    else if (!LLM_KEYS.includes(key)) {
      throw invalid(path, { path: ['llm', key] }, `unknown key llm.${key} (known: ${LLM_KEYS.join(', ')}, auto_trigger, tools, or a [llm.<name>] backend table)`);
    }
  }
  if (llm.max_context_tokens !== undefined) out.maxContextTokens = positiveInt(llm.max_context_tokens, keyAt('llm', 'max_context_tokens'), path);
  const names = Object.keys(out.backends);
  if (llm.default !== undefined) {
    if (typeof llm.default !== 'string' || !out.backends[llm.default]) {
      throw invalid(path, { path: ['llm', 'default'] }, `llm.default must name a [llm.<name>] table (${names.length ? `have: ${names.join(', ')}` : 'there is none'})`);
    }
    out.default = llm.default;
  } else if (names.length === 1) {
    out.default = names[0];
  } else if (names.length > 1) {
    throw invalid(path, { path: ['llm', 'default'] }, `llm.default is required with more than one backend (have: ${names.join(', ')})`);
  }
  if (llm.fallback !== undefined) {
    const list = llm.fallback;
    if (!Array.isArray(list) || !list.every((n) => typeof n === 'string' && out.backends[n] && n !== out.default)) {
      throw invalid(path, { path: ['llm', 'fallback'] }, `llm.fallback must be an array of backend names other than the default (have: ${names.join(', ') || 'none'})`);
    }
    if (new Set(list).size !== list.length) throw invalid(path, { path: ['llm', 'fallback'] }, 'llm.fallback names a backend twice');
    out.fallback = list as string[];
  }
  return out;
}

function backend(name: string, t: Table, path: string): LlmBackendConfig {
  const at = `llm.${name}`;
  /** Where the backend's key `key` is (the table itself without one): the name may hold dots. */
  const target = (...key: string[]) => ({ path: ['llm', name, ...key] });
  if ('api_key' in t) {
    throw invalid(path, target('api_key'), `${at}.api_key: a key written in the config file is refused; ` +
      `use api_key_cmd = "pass show ${name}" (a command that prints the key) or api_key_env = "VARIABLE" instead`);
  }
  for (const key of Object.keys(t)) {
    if (!BACKEND_KEYS.includes(key)) throw invalid(path, target(key), `unknown key ${at}.${key} (known: ${BACKEND_KEYS.join(', ')})`);
  }
  if (typeof t.backend !== 'string' || !KINDS.includes(t.backend as LlmBackendKind)) {
    throw invalid(path, target('backend'), `${at}.backend must be one of ${KINDS.map((k) => `"${k}"`).join(', ')}`);
  }
  if (typeof t.model !== 'string' || t.model.trim() === '') {
    throw invalid(path, target('model'), `${at}.model is required: the model id, such as "claude-sonnet-4-5" or "gpt-4o-mini"`);
  }
  const cfg: LlmBackendConfig = {
    name, kind: t.backend as LlmBackendKind, model: t.model,
    maxTokens: t.max_tokens === undefined ? DEFAULT_MAX_TOKENS : positiveInt(t.max_tokens, { name: `${at}.max_tokens`, target: target('max_tokens') }, path),
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  };
  if (t.timeout_seconds !== undefined) {
    // Fractions are allowed: tests (and impatient users) want sub-second timeouts.
    if (typeof t.timeout_seconds !== 'number' || !(t.timeout_seconds > 0) || t.timeout_seconds > 3600) {
      throw invalid(path, target('timeout_seconds'), `${at}.timeout_seconds must be a number of seconds above 0 and at most 3600`);
    }
    cfg.timeoutSeconds = t.timeout_seconds;
  }
  if (t.tools !== undefined) cfg.tools = bool(t.tools, { name: `${at}.tools`, target: target('tools') }, path);
  if (t.base_url !== undefined) {
    if (typeof t.base_url !== 'string' || !/^https?:\/\/[^/]/.test(t.base_url) || !URL.canParse(t.base_url)) {
      throw invalid(path, target('base_url'), `${at}.base_url must be an http:// or https:// URL, such as "http://127.0.0.1:11434/v1"`);
    }
    cfg.baseUrl = t.base_url;
  }
  if (t.api_key_cmd !== undefined && t.api_key_env !== undefined) {
    throw invalid(path, target(), `${at}: give api_key_cmd or api_key_env, not both`);
  }
  if (t.api_key_cmd !== undefined) {
    if (typeof t.api_key_cmd !== 'string' || t.api_key_cmd.trim() === '') {
      throw invalid(path, target('api_key_cmd'), `${at}.api_key_cmd must be a non-empty string (a shell command that prints the key)`);
    }
    cfg.apiKeyCmd = t.api_key_cmd;
  } else if (t.api_key_env !== undefined) {
    if (typeof t.api_key_env !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(t.api_key_env)) {
      throw invalid(path, target('api_key_env'), `${at}.api_key_env must be the name of an environment variable, such as "OPENAI_API_KEY"`);
    }
    cfg.apiKeyEnv = t.api_key_env;
  } else if (!(cfg.baseUrl && isLoopbackUrl(cfg.baseUrl))) {
    // Only a server on this machine may go without a key: anything else would fail with a 401 later.
    throw invalid(path, target(), `${at} needs api_key_cmd or api_key_env (only a base_url on localhost or 127.0.0.1 may go without a key)`);
  }
  return cfg;
}

function toolsTable(v: unknown, path: string): LlmToolsConfig {
  if (!isTable(v)) throw invalid(path, { path: ['llm', 'tools'] }, 'llm.tools must be a table ([llm.tools])');
  for (const key of Object.keys(v)) {
    if (!TOOLS_KEYS.includes(key)) throw invalid(path, { path: ['llm', 'tools', key] }, `unknown key llm.tools.${key} (known: ${TOOLS_KEYS.join(', ')})`);
  }
  const out = defaultLlmConfig().tools;
  const key = (k: string) => keyAt('llm', 'tools', k);
  if (v.enabled !== undefined) out.enabled = bool(v.enabled, key('enabled'), path);
  if (v.read_files !== undefined) out.readFiles = bool(v.read_files, key('read_files'), path);
  if (v.max_calls !== undefined) {
    if (!Number.isInteger(v.max_calls) || (v.max_calls as number) < 0 || (v.max_calls as number) > 100) {
      throw invalid(path, key('max_calls').target, `${key('max_calls').name} must be an integer from 0 to 100 (0 offers no tools)`);
    }
    out.maxCalls = v.max_calls as number;
  }
  if (v.budget_seconds !== undefined) {
    if (typeof v.budget_seconds !== 'number' || !(v.budget_seconds > 0) || v.budget_seconds > 600) {
      throw invalid(path, key('budget_seconds').target, `${key('budget_seconds').name} must be a number of seconds above 0 and at most 600`);
    }
    out.budgetSeconds = v.budget_seconds;
  }
  if (v.read_file_max_bytes !== undefined) {
    if (!Number.isInteger(v.read_file_max_bytes) || (v.read_file_max_bytes as number) < 1024 || (v.read_file_max_bytes as number) > 1_048_576) {
      throw invalid(path, key('read_file_max_bytes').target, `${key('read_file_max_bytes').name} must be an integer from 1024 to 1048576 (bytes)`);
    }
    out.readFileMaxBytes = v.read_file_max_bytes as number;
  }
  return out;
}

function autoTrigger(v: unknown, path: string): AutoTriggerConfig {
  if (!isTable(v)) throw invalid(path, { path: ['llm', 'auto_trigger'] }, 'llm.auto_trigger must be a table ([llm.auto_trigger])');
  for (const key of Object.keys(v)) {
    if (!AUTO_TRIGGER_KEYS.includes(key)) {
      throw invalid(path, { path: ['llm', 'auto_trigger', key] }, `unknown key llm.auto_trigger.${key} (known: ${AUTO_TRIGGER_KEYS.join(', ')})`);
    }
  }
  const out = defaultLlmConfig().autoTrigger;
  const key = (k: string) => keyAt('llm', 'auto_trigger', k);
  if (v.on_nonzero_exit !== undefined) out.onNonzeroExit = bool(v.on_nonzero_exit, key('on_nonzero_exit'), path);
  if (v.on_stderr_patterns !== undefined) out.onStderrPatterns = stderrPatterns(v.on_stderr_patterns, path) !== false;
  if (v.notify !== undefined) out.notify = bool(v.notify, key('notify'), path);
  if (v.cooldown_seconds !== undefined) {
    if (typeof v.cooldown_seconds !== 'number' || !(v.cooldown_seconds >= 0)) {
      throw invalid(path, key('cooldown_seconds').target, `${key('cooldown_seconds').name} must be a number of seconds, 0 or more`);
    }
    out.cooldownSeconds = v.cooldown_seconds;
  }
  if (v.max_per_hour !== undefined) {
    if (!Number.isInteger(v.max_per_hour) || (v.max_per_hour as number) < 0) {
      throw invalid(path, key('max_per_hour').target, `${key('max_per_hour').name} must be an integer, 0 or more (0 turns auto-explanations off)`);
    }
    out.maxPerHour = v.max_per_hour as number;
  }
  return out;
}

/**
 * `llm.auto_trigger.on_stderr_patterns`: true or false, or a list of regular expressions
 * (JavaScript syntax, case-insensitive, `^`/`$` per line, as in `[[events.rules]]`) that turns
 * pattern triggers on and is what the event detector searches instead of `[events] output_patterns`.
 * Each entry must compile and must not match the empty string (`x*`, `a|`: a slip that would
 * explain every command that prints anything); the list must not be empty.
 * @returns the boolean, or the list as written
 * @throws ConfigError naming `path`, the key and the entry (1-based)
 */
function stderrPatterns(v: unknown, path: string): boolean | string[] {
  const { name, target } = keyAt('llm', 'auto_trigger', 'on_stderr_patterns');
  if (typeof v === 'boolean') return v;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw invalid(path, target, `${name} must be true, false or an array of regular expressions (strings), e.g. ["error", "panic", "traceback", "fatal"]`);
  }
  if (v.length === 0) throw invalid(path, target, `${name} must list at least one regular expression (false turns pattern triggers off)`);
  v.forEach((source: string, i) => {
    const entry = `${name} entry ${i + 1} (${JSON.stringify(source)})`;
    let re: RegExp;
    try {
      re = new RegExp(source, 'im');
    } catch (err) {
      throw invalid(path, target, `${entry} is not a valid regular expression: ${(err as Error).message}`, err);
    }
    if (re.test('')) throw invalid(path, target, `${entry} matches the empty string; a pattern must match some text`);
  });
  return v as string[];
}

function bool(v: unknown, key: KeyAt, path: string): boolean {
  if (typeof v !== 'boolean') throw invalid(path, key.target, `${key.name} must be true or false`);
  return v;
}

function positiveInt(v: unknown, key: KeyAt, path: string): number {
  if (!Number.isSafeInteger(v) || (v as number) <= 0) throw invalid(path, key.target, `${key.name} must be a positive integer`);
  return v as number;
}
