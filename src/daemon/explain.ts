/**
 * Auto-explanations: when a command fails (non-zero exit, or an output pattern), the daemon asks
 * the LLM why, in the background, and pushes the answer to that session's client, which shows it
 * above the prompt. Bounded so it never floods the user or the provider: one in flight per
 * session, a per-session cooldown, and a cap per hour across all sessions. Configured in
 * `[llm.auto_trigger]`.
 */
import { spawn } from 'node:child_process';
import { sanitizeLine, sanitizeText } from '../common/sanitize.js';
import type { AutoTriggerConfig } from '../config/config.js';
import { eventMessage, type AskResult } from '../protocol/index.js';
import type { CommandRecord, ExplanationRecord } from '../store/index.js';
import type { Logger } from './log.js';
import type { LlmService, RequestKind } from './llm.js';
import type { LiveSession } from './sessions.js';

/** The fields of a command record an explanation needs. */
type FailedCommand = Pick<CommandRecord, 'seq' | 'command' | 'exitCode'>;

/** Longest an explanation may take before it is dropped (ms). */
const EXPLAIN_TIMEOUT_MS = 120_000;
const HOUR_MS = 3_600_000;

export class AutoExplainer {
  private readonly inFlight = new Set<string>();
  private readonly lastAt = new Map<string, number>();
  private sentTimes: number[] = [];
  /** Called with each explanation shown, the user message as sent and when it was asked (ms): threads.ts stores it. */
  onExplained?: (sessionId: string, record: FailedCommand, question: string, sent: string, result: AskResult, askedAtMs: number) => void;

  constructor(
    private readonly llm: LlmService,
    private readonly config: AutoTriggerConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Decides whether `kind` on `record` earns an explanation, and starts it if so. */
  consider(session: LiveSession, kind: string, record: FailedCommand): void {
    if (!this.wanted(kind) || !this.allowed(session.id)) return;
    this.inFlight.add(session.id);
    void this.explain(session, record).finally(() => this.inFlight.delete(session.id));
  }

  private wanted(kind: string): boolean {
    if (kind === 'nonzero-exit') return this.config.onNonzeroExit;
    if (kind === 'output-pattern') return this.config.onStderrPatterns;
    return false;
  }

  /** One in flight per session, the cooldown, and the hourly cap; records the start when allowed. */
  private allowed(sessionId: string): boolean {
    const now = this.now();
    if (this.inFlight.has(sessionId)) return false;
    if (now - (this.lastAt.get(sessionId) ?? -Infinity) < this.config.cooldownSeconds * 1000) return false;
    this.sentTimes = this.sentTimes.filter((t) => now - t < HOUR_MS);
    if (this.sentTimes.length >= this.config.maxPerHour) return false;
    this.sentTimes.push(now);
    this.lastAt.set(sessionId, now);
    return true;
  }

  private async explain(session: LiveSession, record: FailedCommand): Promise<void> {
    // Without a backend there is nothing to do: no error for the user, no audit noise.
    if (!(await this.llm.available())) return;
    const { explainQuestion } = await import('../llm/prompt.js');
    // The question names the command by number: its text is terminal data and stays in the context's block.
    const question = explainQuestion(record.seq, record.exitCode);
    try {
      let sent = '';
      const askedAtMs = this.now();
      const kind: RequestKind = { purpose: 'explain', focusSeq: record.seq, onBuilt: (b) => void (sent = b.user) };
      const result = await this.llm.ask('auto', { scope: 'session', session: session.id }, question, () => {}, AbortSignal.timeout(EXPLAIN_TIMEOUT_MS), kind);
      const stored: ExplanationRecord = { type: 'explanation', seq: record.seq, question, backend: result.backend, model: result.model, answer: result.answer };
      session.handle?.appendEvent(stored);
      session.conn.send(eventMessage(session.id, 'explanation', {
        seq: record.seq, command: record.command, text: result.answer, backend: result.backend, model: result.model,
        ...(result.suggestion ? { suggestion: result.suggestion } : {}),
      }));
      if (this.config.notify) notify(record.command, result.answer);
      this.onExplained?.(session.id, record, question, sent, result, askedAtMs);
    } catch (err) {
      this.log.warn({ session: session.id, seq: record.seq, err: (err as Error).message }, 'auto-explanation failed');
    }
  }
}

/**
 * A desktop notification through notify-send, where it exists; failures are ignored. The command
 * line and the answer are untrusted: sanitized like everything omnish shows.
 */
function notify(command: string | null, text: string): void {
  const what = command === null ? 'command' : `\`${[...sanitizeLine(command.split('\n')[0] ?? '')].slice(0, 60).join('')}\``;
  const body = sanitizeText([...text].slice(0, 300).join(''));
  const child = spawn('notify-send', ['--', `omnish: ${what} failed`, body], { stdio: 'ignore', detached: true });
  child.on('error', () => {});
  child.unref();
}
