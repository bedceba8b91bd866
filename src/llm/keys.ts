/**
 * API keys for LLM backends. They never come from the config file: `api_key_cmd` is a shell command
 * that prints the key (`pass show anthropic`, `op read ...`, `secret-tool lookup ...`), run once and
 * cached in memory; `api_key_env` names a variable of the daemon's environment. No key is ever
 * logged or put into an error message.
 */
import { spawn } from 'node:child_process';
import { LlmBackendError } from '../common/errors.js';

type Env = Record<string, string | undefined>;

/** How long `api_key_cmd` may run (ms) before it is killed: a password manager waiting for a pinentry gets this long. */
export const KEY_COMMAND_TIMEOUT_MS = 10_000;

/** Where a backend's key comes from (both unset = no key, for servers on this machine). */
export interface KeySpec {
  apiKeyCmd?: string;
  apiKeyEnv?: string;
}

export interface KeySourceOptions {
  /** Environment read for `api_key_env` and given to `api_key_cmd` (default process.env). */
  env?: Env;
  /** Limit on the command's run time (ms; default KEY_COMMAND_TIMEOUT_MS). */
  commandTimeoutMs?: number;
}

/** One backend's key, fetched on demand and cached. */
export class KeySource {
  readonly #backend: string;
  readonly #spec: KeySpec;
  readonly #env: Env;
  readonly #timeoutMs: number;
  #cached: Promise<string> | undefined;

  constructor(backend: string, spec: KeySpec, options: KeySourceOptions = {}) {
    this.#backend = backend;
    this.#spec = spec;
    this.#env = options.env ?? process.env;
    this.#timeoutMs = options.commandTimeoutMs ?? KEY_COMMAND_TIMEOUT_MS;
  }

  /** What the user should check after a 401: `api_key_cmd`, `api_key_env (OPENAI_API_KEY)` or `the server's key setting`. */
  get hint(): string {
    if (this.#spec.apiKeyCmd !== undefined) return 'api_key_cmd';
    if (this.#spec.apiKeyEnv !== undefined) return `api_key_env (${this.#spec.apiKeyEnv})`;
    return 'api_key_cmd or api_key_env (none is set)';
  }

  /** True when dropping the cache can give a different key (a command may print a rotated one). */
  get refreshable(): boolean {
    return this.#spec.apiKeyCmd !== undefined;
  }

  /**
   * The key, or undefined when the backend has none configured.
   * @throws LlmBackendError (reason "key", not retryable) when the command fails, times out or
   *   prints nothing, or the environment variable is unset or empty.
   */
  async get(): Promise<string | undefined> {
    const { apiKeyCmd, apiKeyEnv } = this.#spec;
    if (apiKeyCmd !== undefined) {
      // The promise is cached, not the value, so concurrent requests share one run of the command.
      this.#cached ??= runKeyCommand(this.#backend, apiKeyCmd, this.#env, this.#timeoutMs);
      const pending = this.#cached;
      try {
        return await pending;
      } catch (err) {
        if (this.#cached === pending) this.#cached = undefined; // a failure is not cached: the next request runs it again
        throw err;
      }
    }
    if (apiKeyEnv !== undefined) {
      const value = this.#env[apiKeyEnv]?.trim();
      if (!value) throw keyError(this.#backend, `api_key_env: $${apiKeyEnv} is not set in omnishd's environment`);
      return value;
    }
    return undefined;
  }

  /** Drops the cached key (after a 401), so the next `get()` runs `api_key_cmd` again. */
  invalidate(): void {
    this.#cached = undefined;
  }
}

function keyError(backend: string, what: string, cause?: unknown): LlmBackendError {
  return new LlmBackendError(`${backend}: ${what}`, { backend, reason: 'key', retryable: false, cause });
}

/**
 * Runs `cmd` with /bin/sh -c, stdin closed, in its own process group (so a timeout kills the
 * whole pipeline, not just the shell).
 * @returns the first line of its standard output, trimmed (`pass show` prints the password
 *   first and notes after it; a key never contains a newline).
 * @throws LlmBackendError naming the exit status (or signal, or timeout) and the first line of
 *   its standard error; never the standard output, which may hold the key.
 */
function runKeyCommand(backend: string, cmd: string, env: Env, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // the group is gone already; make sure of the shell itself
      }
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(keyError(backend, `api_key_cmd could not be started: ${e.message}`, e));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8').trim().split('\n')[0]?.trim() ?? '';
      const detail = stderr ? `: ${stderr.slice(0, 200)}` : '';
      if (timedOut) return reject(keyError(backend, `api_key_cmd did not finish within ${timeoutMs / 1000} s${detail}`));
      if (code !== 0) {
        const status = code === null ? `killed by ${signal ?? 'a signal'}` : `exit status ${code}`;
        return reject(keyError(backend, `api_key_cmd failed (${status})${detail}`));
      }
      const key = Buffer.concat(out).toString('utf8').trim().split('\n')[0]?.trim() ?? '';
      if (!key) return reject(keyError(backend, `api_key_cmd printed nothing${detail}`));
      resolve(key);
    });
  });
}
