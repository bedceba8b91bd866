/**
 * The bounded tool loop: ask the model (with retries and fallback, retry.ts), run the tools it
 * calls, send their results back, and again, until it answers without calling any. At most
 * `maxCalls` tool calls and `budgetMs` of wall time; then one last request that offers no call
 * (tool_choice "none") and tells the model to answer with what it has. Streamed text passes through
 * as it comes, from every round. Every tool result is redacted (src/redact) and framed as untrusted
 * data (tool-prompt.ts) here, whatever the executor did, before it is sent.
 *
 * The loop knows nothing of what the tools read: the daemon hands it a ToolExecutor.
 */
import { countMarkers, redact, type Redaction, type RedactOptions } from '../redact/redact.js';
import type { LlmBackend, LlmMessage, LlmRequest, LlmToolCall, LlmToolDefinition, LlmToolResult, LlmUsage } from './backend.js';
import { withFallback, type RetryOptions } from './retry.js';
import { frameToolResult, limitNotice, stoppedLine } from './tool-prompt.js';

/** What running one tool call gave. */
export interface ToolOutcome {
  /** The result for the model (redacted again and framed by the loop). */
  content: string;
  /** True when the call failed: `content` is the error, for the model. */
  isError?: boolean;
  /** One short line for the user, e.g. `searched "ENOSPC" in 14 sessions`; none: nothing is shown. */
  summary?: string;
}

/** The tools of a request: their definitions and how a call is run. */
export interface ToolExecutor {
  readonly definitions: readonly LlmToolDefinition[];
  /**
   * Runs one call. A thrown error becomes an error result for the model (its message redacted);
   * it does not end the answer.
   */
  run(call: LlmToolCall, signal: AbortSignal | undefined): Promise<ToolOutcome>;
}

/** One tool call the loop ran (or refused at the limit), for the user's line and the audit log. */
export interface ToolCallReport {
  call: LlmToolCall;
  /** The outcome, `content` as sent (redacted and framed). */
  outcome: ToolOutcome;
  /** UTF-8 bytes of the result sent. */
  bytes: number;
  /** Secrets replaced in what was sent, by kind. */
  redactions: Redaction[];
  /** Wall time of the call, ms. */
  durationMs: number;
}

export interface ToolLoopOptions {
  /** Most tool calls run in one answer (0: no tools are offered). */
  maxCalls: number;
  /** Wall time after which no further tool is run, ms (counted from the first request). */
  budgetMs: number;
  /** Each piece of answer text, as it arrives. */
  onText: (text: string) => void;
  /** Each tool call, once its result is ready (before it is sent). */
  onToolCall?: (report: ToolCallReport) => void;
  /** The user's [redact] settings, for tool results. */
  redact?: RedactOptions;
  retry?: RetryOptions;
  /** Clock, ms (tests pass their own). */
  now?: () => number;
}

export interface ToolLoopResult {
  /** The text of every round, as streamed. */
  answer: string;
  /** The backend that answered last, and its model as it reported it (undefined: none did). */
  backend: LlmBackend | undefined;
  model: string | undefined;
  /** Tokens of all rounds together. */
  usage: LlmUsage;
  /** Tool calls run. */
  calls: number;
  /** Requests sent (rounds). */
  rounds: number;
  /** Which limit ended the tool calls, if one did. */
  limit?: 'calls' | 'time';
  /** True when the model asked for tools even after the limit, and the loop gave up on it. */
  stopped: boolean;
}

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * Runs the loop for `request` over `backends` (the default first, then the fallbacks).
 * Without an executor (or with no definitions, or maxCalls 0) it is one plain request.
 * @throws what withFallback throws (LlmBackendError), from any round; aborted by request.signal
 */
export async function runToolLoop(backends: readonly LlmBackend[], request: LlmRequest, executor: ToolExecutor | undefined, options: ToolLoopOptions): Promise<ToolLoopResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const offer = executor !== undefined && executor.definitions.length > 0 && options.maxCalls > 0;
  const messages: LlmMessage[] = [...request.messages];
  const result: ToolLoopResult = { answer: '', backend: undefined, model: undefined, usage: { inputTokens: 0, outputTokens: 0 }, calls: 0, rounds: 0, stopped: false };
  const emit = (text: string): void => {
    result.answer += text;
    options.onText(text);
  };
  for (;;) {
    const final = result.limit !== undefined;
    const req: LlmRequest = { ...request, messages: [...messages], ...(offer ? { tools: [...executor.definitions], toolChoice: final ? 'none' : 'auto' } : {}) };
    const stream = withFallback(backends, req, options.retry);
    result.rounds++;
    let text = '';
    const pending: LlmToolCall[] = [];
    for await (const chunk of stream) {
      if (chunk.type === 'text') {
        // The text of a later round starts on a line of its own.
        if (text === '' && result.answer !== '' && !/\s$/.test(result.answer)) emit('\n');
        text += chunk.text;
        emit(chunk.text);
      } else if (chunk.type === 'tool-call') pending.push(chunk.call);
      else {
        result.usage = { inputTokens: result.usage.inputTokens + chunk.usage.inputTokens, outputTokens: result.usage.outputTokens + chunk.usage.outputTokens };
        result.model = chunk.model;
      }
    }
    result.backend = stream.backend ?? result.backend;
    if (pending.length === 0 || !offer) return result;
    if (final) {
      result.stopped = true;
      emit(`${result.answer === '' || result.answer.endsWith('\n') ? '' : '\n'}${stoppedLine(result.calls)}`);
      return result;
    }
    messages.push({ role: 'assistant', content: text, toolCalls: pending });
    const results: LlmToolResult[] = [];
    for (const call of pending) results.push(await runOne(executor, call, request.signal, result, options, now() - started));
    if (result.calls >= options.maxCalls) result.limit ??= 'calls';
    if (now() - started >= options.budgetMs) result.limit ??= 'time';
    const notice = result.limit === undefined ? '' : limitNotice(result.limit, options.maxCalls);
    messages.push({ role: 'user', content: notice, toolResults: results });
  }
}

/** Runs (or, past a limit, refuses) one call; reports it; returns its framed, redacted result. */
async function runOne(executor: ToolExecutor, call: LlmToolCall, signal: AbortSignal | undefined, result: ToolLoopResult, options: ToolLoopOptions, elapsedMs: number): Promise<LlmToolResult> {
  const t0 = Date.now();
  let outcome: ToolOutcome;
  if (result.calls >= options.maxCalls || elapsedMs >= options.budgetMs) {
    result.limit ??= result.calls >= options.maxCalls ? 'calls' : 'time';
    outcome = { content: 'not run: the tool limit of this answer is reached', isError: true };
  } else {
    result.calls++;
    try {
      outcome = await executor.run(call, signal);
    } catch (err) {
      outcome = { content: err instanceof Error ? err.message : String(err), isError: true, summary: `${call.name} failed` };
    }
  }
  // Redacted here whatever the executor did: nothing unredacted leaves through a tool.
  const clean = await redact(outcome.content, options.redact);
  const content = frameToolResult(call.name, clean.text, outcome.isError === true);
  const sent: ToolOutcome = { ...outcome, content };
  options.onToolCall?.({ call, outcome: sent, bytes: utf8(content), redactions: countMarkers(content), durationMs: Date.now() - t0 });
  return { id: call.id, content, ...(outcome.isError ? { isError: true } : {}) };
}
