/**
 * From the `[llm]` config to backend objects. With no backend configured, omnish looks for one:
 * ANTHROPIC_API_KEY, then OPENAI_API_KEY in the daemon's environment, then a local
 * OpenAI-compatible server (Ollama's port) answering on 127.0.0.1. Otherwise NoBackendError says
 * exactly what to write where. docs/llm.md describes it for users.
 */
import { LlmBackendError } from '../common/errors.js';
import { configPath } from '../common/paths.js';
import { DEFAULT_MAX_TOKENS, DEFAULT_TIMEOUT_SECONDS, type LlmBackendConfig, type LlmConfig } from '../config/llm.js';
import { AnthropicBackend } from './anthropic/backend.js';
import type { LlmBackend } from './backend.js';
import { KeySource, type KeySourceOptions } from './keys.js';
import { OpenAiCompatBackend, OPENAI_BASE_URL } from './openai-compatible/backend.js';

type Env = Record<string, string | undefined>;

/** Model used when ANTHROPIC_API_KEY is found and nothing is configured. */
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-4-5';
/** Model used when OPENAI_API_KEY is found and nothing is configured. */
export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';
/** Where a local OpenAI-compatible server is looked for (Ollama's default port). */
export const LOCAL_PROBE_URL = 'http://127.0.0.1:11434/v1';
/** How long the local probe may take (ms): a missing server refuses at once, a hung one costs this. */
export const LOCAL_PROBE_TIMEOUT_MS = 1500;

/** Nothing is configured and nothing was found. The message (several lines) says what to add to which file. */
export class NoBackendError extends LlmBackendError {
  constructor(path: string, detail?: string) {
    super(
      `no LLM backend is configured${detail ? ` (${detail})` : ''}. Add this to ${path}:\n\n` +
        `[llm.claude]\nbackend = "anthropic"\nmodel = "${DEFAULT_ANTHROPIC_MODEL}"\napi_key_cmd = "pass show anthropic"   # or api_key_env = "ANTHROPIC_API_KEY"\n\n` +
        `or set ANTHROPIC_API_KEY or OPENAI_API_KEY in omnishd's environment, or run Ollama on 127.0.0.1:11434 ` +
        `(docs/llm.md has examples for OpenAI, Ollama, LM Studio, vLLM, DeepSeek and OpenRouter).`,
      { backend: 'llm', reason: 'no_backend', retryable: false },
    );
  }
}

/**
 * Builds the backend for one `[llm.<name>]` table. Cheap: nothing is sent and no key is fetched
 * until the first request.
 */
export function createBackend(config: LlmBackendConfig, keyOptions: KeySourceOptions = {}): LlmBackend {
  const keys = new KeySource(config.name, { apiKeyCmd: config.apiKeyCmd, apiKeyEnv: config.apiKeyEnv }, keyOptions);
  return config.kind === 'anthropic' ? new AnthropicBackend(config, keys) : new OpenAiCompatBackend(config, keys);
}

export interface ResolveOptions {
  /** Root of the local server looked for (default LOCAL_PROBE_URL; tests point it at a fake). */
  probeUrl?: string;
  /** Limit on the probe (ms; default LOCAL_PROBE_TIMEOUT_MS). */
  probeTimeoutMs?: number;
  /** Config file named in NoBackendError (default configPath(env)). */
  configPath?: string;
  /** Options for the keys (timeout of api_key_cmd). The environment is `env`. */
  keys?: Omit<KeySourceOptions, 'env'>;
}

/** The backends of a request: the one that answers and those tried after it, in order. */
export interface ResolvedBackends {
  primary: LlmBackend;
  fallbacks: LlmBackend[];
}

/**
 * Picks the backends: the configured ones when `[llm]` has backend tables, else what the
 * environment or this machine offers. Keep the result: the backends cache their keys.
 * @param env the daemon's environment (keys for api_key_env, and for the defaults).
 * @throws NoBackendError when nothing is configured or found; within about 1.5 s.
 */
export async function resolveBackends(config: LlmConfig, env: Env, options: ResolveOptions = {}): Promise<ResolvedBackends> {
  const keyOptions = { ...options.keys, env };
  if (config.default !== undefined) {
    const primary = config.backends[config.default];
    // validateLlm guarantees it; a hand-built config might not.
    if (!primary) throw new Error(`llm.default names no backend: ${config.default}`);
    const fallbacks = config.fallback.map((name) => config.backends[name]).filter((b): b is LlmBackendConfig => b !== undefined);
    return { primary: createBackend(primary, keyOptions), fallbacks: fallbacks.map((b) => createBackend(b, keyOptions)) };
  }
  const found = defaultsFromEnv(env);
  if (found.length > 0) {
    const [primary, ...fallbacks] = found.map((b) => createBackend(b, keyOptions));
    return { primary: primary as LlmBackend, fallbacks };
  }
  const probeUrl = options.probeUrl ?? LOCAL_PROBE_URL;
  const local = await probeLocalServer(probeUrl, options.probeTimeoutMs ?? LOCAL_PROBE_TIMEOUT_MS);
  const path = options.configPath ?? configPath(env);
  if (local === undefined) throw new NoBackendError(path);
  if (local.length === 0) throw new NoBackendError(path, `the server at ${probeUrl} has no model; pull one, e.g. \`ollama pull llama3.2\``);
  const model = local[0] as string;
  const primary: LlmBackendConfig = {
    name: 'local', kind: 'openai_compat', model, baseUrl: probeUrl, maxTokens: DEFAULT_MAX_TOKENS, timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  };
  return { primary: createBackend(primary, keyOptions), fallbacks: [] };
}

/** Backends for the API keys in `env`: Anthropic's first, OpenAI's as its fallback. */
function defaultsFromEnv(env: Env): LlmBackendConfig[] {
  const common = { maxTokens: DEFAULT_MAX_TOKENS, timeoutSeconds: DEFAULT_TIMEOUT_SECONDS };
  const out: LlmBackendConfig[] = [];
  if (env.ANTHROPIC_API_KEY?.trim()) {
    out.push({ name: 'anthropic', kind: 'anthropic', model: DEFAULT_ANTHROPIC_MODEL, apiKeyEnv: 'ANTHROPIC_API_KEY', ...common });
  }
  if (env.OPENAI_API_KEY?.trim()) {
    out.push({ name: 'openai', kind: 'openai_compat', model: DEFAULT_OPENAI_MODEL, baseUrl: OPENAI_BASE_URL, apiKeyEnv: 'OPENAI_API_KEY', ...common });
  }
  return out;
}

/**
 * Asks an OpenAI-compatible server which models it has (GET {root}/models).
 * @param root API root such as `http://127.0.0.1:11434/v1`.
 * @param timeoutMs limit on the whole exchange.
 * @returns the model ids in the server's order (possibly none), or undefined when nothing
 *   answered in time or the answer was not a model list. Never throws.
 */
export async function probeLocalServer(root: string, timeoutMs: number = LOCAL_PROBE_TIMEOUT_MS): Promise<string[] | undefined> {
  try {
    const res = await fetch(`${root.replace(/\/+$/, '')}/models`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { data?: unknown };
    if (!Array.isArray(body.data)) return undefined;
    return body.data.map((m: { id?: unknown }) => m.id).filter((id): id is string => typeof id === 'string' && id !== '');
  } catch {
    return undefined;
  }
}
