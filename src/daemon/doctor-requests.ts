/**
 * `doctor-llm`: the daemon's half of `omnish doctor`. The LLM backends are checked here, not in the
 * client, for two reasons: the client never loads the LLM layer, and what matters is what omnishd
 * itself can reach with its own config and environment (keys from `api_key_env` are variables of
 * omnishd, which may differ from the shell running `omnish doctor`).
 *
 * Each backend gets one minimal real request ("ping", at most 1 token of answer, no terminal text,
 * no retry, no fallback): only a real request proves that the key is accepted and the model
 * exists, which a connection or `GET /models` would not. Like every request sent to an LLM it goes
 * into the audit log, with trigger "doctor".
 */
import { isUserFacing, LlmBackendError } from '../common/errors.js';
import type { OmnishConfig } from '../config/config.js';
import type { LlmBackend } from '../llm/backend.js';
import type { DoctorBackendResult, DoctorLlmResult } from '../protocol/index.js';
import { appendAudit, type AuditEntry } from '../store/audit.js';
import type { RequestHandlers } from './control.js';

/** How long one backend may take to answer the ping (ms); the client waits a little longer in all. */
export const DOCTOR_BACKEND_TIMEOUT_MS = 5000;

/** The whole text sent to each backend: fixed, so nothing of the user's leaves the machine. */
const PING = 'ping';

export interface DoctorLlmOptions {
  /** Limit per backend (ms; default DOCTOR_BACKEND_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Audit log to append to (default the daemon's, `<stateDir>/audit.jsonl`). */
  auditPath?: string;
}

/** The handler of `doctor-llm`, for the daemon's table (daemon/main.ts). */
export function doctorHandlers(config: OmnishConfig, env: NodeJS.ProcessEnv = process.env): Pick<RequestHandlers, 'doctor-llm'> {
  return { 'doctor-llm': (_state, _params, ctx) => doctorLlm(config, env, ctx.signal) };
}

/**
 * Resolves the backends as `ask` would and pings each one, all at once.
 * @throws only for a bug; every backend problem is part of the result.
 */
export async function doctorLlm(config: OmnishConfig, env: NodeJS.ProcessEnv, signal?: AbortSignal, options: DoctorLlmOptions = {}): Promise<DoctorLlmResult> {
  // Loaded here, like the rest of the LLM layer, so a daemon nobody asks pays nothing for the SDKs.
  const { resolveBackends, NoBackendError } = await import('../llm/registry.js');
  let backends: LlmBackend[];
  try {
    const resolved = await resolveBackends(config.llm, env, { probeUrl: env.OMNISH_LLM_PROBE_URL });
    backends = [resolved.primary, ...resolved.fallbacks];
  } catch (err) {
    if (!(err instanceof NoBackendError)) throw err;
    // Only the first sentence (and its detail): the client says how to configure one in its own words.
    const problem = (err.message.split('\n')[0] ?? err.message).replace(/\. Add this to .*$/, '');
    return { source: 'none', problem, pid: process.pid, backends: [] };
  }
  const source = config.llm.default !== undefined ? 'config' : backends[0]?.name === 'local' ? 'local' : 'env';
  const results = await Promise.all(
    backends.map((b, i) => ping(b, i === 0 ? 'default' : 'fallback', signal, options)),
  );
  return { source, pid: process.pid, backends: results };
}

/** One attempt at a 1-token answer, bounded by the timeout even if the backend ignores its signal. */
async function ping(backend: LlmBackend, role: 'default' | 'fallback', outer: AbortSignal | undefined, options: DoctorLlmOptions): Promise<DoctorBackendResult> {
  const timeoutMs = options.timeoutMs ?? DOCTOR_BACKEND_TIMEOUT_MS;
  const started = Date.now();
  const abort = new AbortController();
  const onOuterAbort = (): void => abort.abort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  // A stalled api_key_cmd (a pinentry nobody answers) does not look at the signal: race a timer too.
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve('timeout');
    }, timeoutMs);
  });
  const attempt = (async () => {
    let usage = { inputTokens: 0, outputTokens: 0 };
    let model = backend.model;
    for await (const chunk of backend.stream({ system: '', messages: [{ role: 'user', content: PING }], maxTokens: 1, signal: abort.signal })) {
      if (chunk.type === 'done') {
        usage = chunk.usage;
        model = chunk.model || model;
      }
    }
    return { usage, model };
  })();
  attempt.catch(() => undefined); // its error is read below, or it lost the race to the timer
  const base = { name: backend.name, kind: backend.kind, model: backend.model, baseUrl: backend.baseUrl, role };
  const audit: AuditEntry = {
    time: new Date(started).toISOString(),
    trigger: 'doctor',
    sessions: [],
    backend: backend.name,
    model: backend.model,
    charsSent: PING.length,
    redactions: [],
    tokensIn: 0,
    tokensOut: 0,
    outcome: 'ok',
    durationMs: 0,
  };
  try {
    const won = await Promise.race([attempt, timedOut]);
    if (won === 'timeout') {
      const error = `${backend.name}: no answer within ${timeoutMs / 1000} s from ${backend.baseUrl}`;
      audit.outcome = `error: ${error}`;
      return { ...base, ok: false, ms: Date.now() - started, error, reason: 'timeout' };
    }
    audit.model = won.model;
    audit.tokensIn = won.usage.inputTokens;
    audit.tokensOut = won.usage.outputTokens;
    return { ...base, ok: true, ms: Date.now() - started };
  } catch (err) {
    const error = isUserFacing(err) ? (err.message.split('\n')[0] ?? err.message) : `${backend.name}: ${(err as Error).message}`;
    audit.outcome = outer?.aborted ? 'cancelled' : `error: ${error}`;
    return { ...base, ok: false, ms: Date.now() - started, error, ...(err instanceof LlmBackendError ? { reason: err.reason } : {}) };
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
    audit.durationMs = Date.now() - started;
    appendAudit(audit, options.auditPath);
  }
}
