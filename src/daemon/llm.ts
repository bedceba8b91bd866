/**
 * The daemon's LLM service: builds the context from the store (redacted, src/llm/context.ts),
 * sends it to the configured backends with retries and fallback (src/llm/retry.ts), streams the
 * answer to the asking client and writes an audit entry for every request. The LLM SDKs load here,
 * on first use, and never in the client.
 */
import { UsageError } from '../common/errors.js';
import type { OmnishConfig } from '../config/config.js';
import type { LlmMessage } from '../llm/backend.js';
import type { AskResult, AskToolData, ScopeParams, UntrustedParams } from '../protocol/index.js';
import type { SessionStore } from '../store/index.js';
import { appendAudit, type AuditEntry } from '../store/audit.js';
import { IndexCommandHistory } from './command-history.js';
import type { Logger } from './log.js';
import { Suggestions } from './suggestions.js';

/** Which sessions a request is about, checked (`ScopeParams` of the protocol, as `parseScope` read it). */
export type Scope = ScopeParams;

/** What a request is for: a question the user asked, or an auto-explanation of command `focusSeq`. */
export interface RequestKind {
  /** Selects the system prompt (default 'ask'). */
  purpose?: 'ask' | 'explain';
  /** The command in the asking session the question is about (see ContextOptions.focusSeq). */
  focusSeq?: number;
  /** Told of each tool call the model makes, as the line the asker sees (ask-tools.ts). */
  onTool?: (data: AskToolData) => void;
  /** A thread's earlier turns (src/daemon/threads.ts), oldest first: sent before this request's user message. */
  history?: LlmMessage[];
  /** Sent instead of a context built from the store (a follow-up's message, already redacted). */
  prebuilt?: import('../llm/context.js').BuiltContext;
  /** Called with what is sent, before sending it: a thread stores its user turn as sent. */
  onBuilt?: (built: { system: string; user: string }) => void;
}

/** How long a request about a session waits for that session to register (ms). */
const SESSION_WAIT_MS = 5000;

type Resolved = Awaited<ReturnType<typeof import('../llm/registry.js').resolveBackends>>;

/** Reads a Scope from request params. @throws UsageError on bad params */
export function parseScope(params: UntrustedParams<'ask'>): Scope {
  const scope = params.scope;
  if (scope !== 'session' && scope !== 'latest' && scope !== 'all' && scope !== 'recent') throw new UsageError(`bad scope ${String(scope)}`);
  const recent = typeof params.recent === 'number' ? params.recent : undefined;
  if (scope === 'recent' && !(recent && recent > 0)) throw new UsageError('recent needs a positive number of sessions');
  return { scope, session: typeof params.session === 'string' ? params.session : undefined, recent };
}

export class LlmService {
  private backends: Promise<Resolved> | undefined;
  /** The latest command each session's answers proposed (the `suggestion` request). */
  readonly suggestions = new Suggestions();

  constructor(
    private readonly store: SessionStore,
    private readonly config: OmnishConfig,
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The context `ask` would send (redacted), without sending it. */
  async context(scope: Scope, question?: string, kind: RequestKind = {}): Promise<import('../llm/context.js').BuiltContext> {
    if (scope.scope === 'session' && scope.session) await this.waitForSession(scope.session);
    const { buildContext } = await import('../llm/context.js');
    return buildContext({
      store: this.store,
      sessions: scope.scope === 'all' ? 'all-active' : scope.scope === 'recent' ? { recent: scope.recent ?? 1 } : 'current',
      currentSessionId: scope.scope === 'session' ? scope.session : undefined,
      question,
      maxTokens: this.config.llm.maxContextTokens,
      purpose: kind.purpose ?? 'ask',
      focusSeq: kind.focusSeq,
      redact: this.config.redact,
      history: new IndexCommandHistory(),
    });
  }

  /**
   * Answers a question, calling `onText` with each piece as it arrives.
   * @throws LlmBackendError (one line for the user) when no backend answers; aborted by `signal`
   */
  async ask(trigger: 'ask' | 'auto', scope: Scope, question: string, onText: (text: string) => void, signal: AbortSignal, kind: RequestKind = {}): Promise<AskResult> {
    const started = Date.now();
    const built = kind.prebuilt ?? await this.context(scope, question, kind);
    kind.onBuilt?.(built);
    const audit: AuditEntry = {
      time: new Date(started).toISOString(),
      trigger,
      sessions: [scope.scope === 'session' && scope.session ? scope.session : scope.scope === 'recent' ? `recent:${scope.recent}` : scope.scope],
      backend: null,
      model: null,
      charsSent: built.stats.chars,
      redactions: built.stats.redactions,
      tokensIn: 0,
      tokensOut: 0,
      outcome: 'ok',
      durationMs: 0,
    };
    try {
      const { answer } = await import('./ask-run.js');
      const session = scope.scope === 'session' ? scope.session : undefined;
      return await answer({
        backends: await this.resolve(), built, history: kind.history, trigger, session, onText, onTool: kind.onTool, signal, audit,
        config: this.config, store: this.store, suggestions: this.suggestions, log: this.log,
      });
    } catch (err) {
      audit.outcome = signal.aborted ? 'cancelled' : `error: ${(err as Error).message.split('\n')[0]}`;
      throw err;
    } finally {
      audit.durationMs = Date.now() - started;
      appendAudit(audit);
      this.log.info({ trigger, backend: audit.backend, chars: audit.charsSent, outcome: audit.outcome }, 'llm request');
    }
  }

  /**
   * A shell that has just started may ask before its recorder has registered the session (the
   * daemon was started on demand, the client reconnects with backoff): give it a moment.
   * @throws StoreError (no session matches) after `timeoutMs`
   */
  async waitForSession(id: string, timeoutMs = SESSION_WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        this.store.resolve(id);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** True when some backend is configured or found (never throws). */
  async available(): Promise<boolean> {
    try {
      await this.resolve();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Forgets the resolved backends, so that the next request resolves `config.llm` again: called when
   * `omnish config set` or a reload of the file changed the default, the fallback or a backend table. A request already under
   * way keeps the backends it started with.
   */
  reconfigure(): void {
    this.backends = undefined;
  }

  /** The backends, resolved once (they cache their keys); a failure is retried on the next request. */
  private resolve(): Promise<Resolved> {
    if (this.backends) return this.backends;
    const resolving = import('../llm/registry.js').then(({ resolveBackends }) => resolveBackends(this.config.llm, this.env, { probeUrl: this.env.OMNISH_LLM_PROBE_URL }));
    this.backends = resolving;
    resolving.catch(() => {
      // Only this attempt is forgotten: after a reconfigure, a newer one may be under way.
      if (this.backends === resolving) this.backends = undefined;
    });
    return resolving;
  }
}
