/**
 * One answer with tools: the built context goes to the backends through the tool loop
 * (src/llm/tool-loop.ts) with the daemon's tools (ask-tools.ts) when `[llm.tools]` and the default
 * backend allow, else as today's single request. Each tool call is shown to the asker as one line
 * (`onTool`), logged in the audit log (an `llm-tool` line), and counted in the request's entry;
 * a suggest_command call becomes the session's suggestion (suggestions.ts) and the result's.
 */
import type { OmnishConfig } from '../config/config.js';
import type { LlmBackend, LlmMessage } from '../llm/backend.js';
import type { ToolCallReport } from '../llm/tool-loop.js';
import type { AskResult, AskToolData } from '../protocol/index.js';
import { appendAudit, type AuditEntry } from '../store/audit.js';
import { readCommandRecords, type SessionStore } from '../store/index.js';
import type { Logger } from './log.js';
import { cleanSuggestion, type Suggestions } from './suggestions.js';

/** Everything one answer needs. */
export interface AnswerJob {
  backends: { primary: LlmBackend; fallbacks: LlmBackend[] };
  built: { system: string; user: string };
  /** A thread's earlier turns, oldest first, sent before the built user message. */
  history?: LlmMessage[];
  trigger: 'ask' | 'auto';
  /** The asking session (id or prefix as asked), if the request is about one. */
  session?: string;
  onText: (text: string) => void;
  /** Each tool call, as the line the user sees. */
  onTool?: (data: AskToolData) => void;
  signal: AbortSignal;
  /** The request's audit entry, filled in here (backend, model, tokens, tool calls). */
  audit: AuditEntry;
  config: OmnishConfig;
  store: SessionStore;
  suggestions: Suggestions;
  log: Logger;
}

type Redactions = AuditEntry['redactions'];

/** Two per-kind counts added up (the daemon does not load the redactor for this). */
function addRedactions(a: Redactions, b: Redactions): Redactions {
  const by = new Map(a.map((r) => [r.kind, r.count]));
  for (const r of b) by.set(r.kind, (by.get(r.kind) ?? 0) + r.count);
  return [...by].map(([kind, count]) => ({ kind, count }));
}

/** The asking session's full id and where its last command ran (or where it started); nothing when unknown. */
function sessionPlace(store: SessionStore, prefix: string | undefined): { id?: string; cwd: string | null } {
  if (prefix === undefined) return { cwd: null };
  try {
    const s = store.resolve(prefix);
    let cwd: string | null = s.cwd;
    try {
      const records = readCommandRecords(s.dir);
      cwd = records[records.length - 1]?.cwd ?? s.cwd;
    } catch {
      // records unreadable: the cwd at the start will do
    }
    return { id: s.id, cwd };
  } catch {
    return { cwd: null };
  }
}

/**
 * Streams the answer to `job` (with tools when allowed) and returns the ask result.
 * @throws LlmBackendError when no backend answers; aborted by job.signal
 */
export async function answer(job: AnswerJob): Promise<AskResult> {
  const [{ runToolLoop }, { toolsPrompt }, { askToolExecutor }] = await Promise.all([
    import('../llm/tool-loop.js'), import('../llm/tool-prompt.js'), import('./ask-tools.js'),
  ]);
  const { primary, fallbacks } = job.backends;
  const { audit, config } = job;
  const tools = config.llm.tools;
  audit.backend = primary.name;
  audit.model = primary.model;
  // A default backend without tools gets today's single request; so do its fallbacks then.
  const useTools = tools.enabled && tools.maxCalls > 0 && primary.supportsTools;
  const place = sessionPlace(job.store, job.session);
  let suggestion: string | null = null;
  const executor = useTools ? askToolExecutor({
    store: job.store, redact: config.redact, sessionId: place.id, cwd: place.cwd, contextText: job.built.user, tools,
    onSuggestion: (command) => {
      // An answer about no particular session (scope latest or all) keeps nothing for `::fix`.
      suggestion = place.id === undefined ? cleanSuggestion(command) : job.suggestions.set(place.id, command);
      return suggestion;
    },
  }) : undefined;
  const system = useTools ? `${job.built.system}\n\n${toolsPrompt(tools.readFiles)}` : job.built.system;
  // The context's size (history included, for a follow-up) plus the tools' paragraph; results are added as they go.
  audit.charsSent += system.length - job.built.system.length;
  let calls = 0;
  const onToolCall = (report: ToolCallReport): void => {
    calls++;
    audit.charsSent += report.outcome.content.length;
    audit.redactions = addRedactions(audit.redactions, report.redactions);
    const error = report.outcome.isError ? `error: ${(report.outcome.content.split('\n')[1] ?? '').slice(0, 200)}` : 'ok';
    appendAudit({
      kind: 'llm-tool', time: new Date().toISOString(), trigger: job.trigger, session: place.id ?? null, backend: audit.backend,
      tool: report.call.name, arguments: report.call.input, bytes: report.bytes, redactions: report.redactions, outcome: error, durationMs: report.durationMs,
    });
    if (report.outcome.summary) job.onTool?.({ tool: report.call.name, text: report.outcome.summary });
  };
  const r = await runToolLoop([primary, ...fallbacks], { system, messages: [...(job.history ?? []), { role: 'user', content: job.built.user }], signal: job.signal }, executor, {
    maxCalls: tools.maxCalls,
    budgetMs: tools.budgetSeconds * 1000,
    onText: job.onText,
    onToolCall,
    redact: config.redact,
    retry: { onFailure: (f) => job.log.warn({ backend: f.backend, attempt: f.attempt, err: f.error.message, retryInMs: f.retryInMs }, 'llm attempt failed') },
  });
  if (r.backend) audit.backend = r.backend.name;
  audit.model = r.model ?? audit.model;
  audit.tokensIn = r.usage.inputTokens;
  audit.tokensOut = r.usage.outputTokens;
  if (calls > 0) audit.toolCalls = calls;
  if (r.limit) job.log.info({ limit: r.limit, calls: r.calls, stopped: r.stopped }, 'llm tool limit reached');
  return {
    answer: r.answer, backend: audit.backend ?? primary.name, model: audit.model ?? primary.model, usage: r.usage,
    suggestion, toolCalls: calls,
  };
}

