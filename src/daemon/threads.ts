/**
 * Threads on the daemon's side: every `ask` is stored as a thread (a new one, or a turn of the one
 * it continues), and so is every auto-explanation (src/store/threads.ts has the files, docs/llm.md
 * "Threads and follow-ups" the behaviour). A follow-up (`continue` or `thread` in the ask params)
 * sends the thread's earlier turns, as they were sent and answered, with a new message saying what
 * ran in the session since (src/llm/followup.ts). The daemon is the only writer of the files.
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../common/errors.js';
import type { OmnishConfig } from '../config/config.js';
import type { AskResult, ThreadsRmResult, UntrustedParams } from '../protocol/index.js';
import {
  THREAD_FORMAT_VERSION, newThreadId, pruneThreads,
  type RetentionReport, type SessionStore, type ThreadId, type ThreadRecord, type ThreadStore, type ThreadTurn,
} from '../store/index.js';
import type { Logger } from './log.js';
import { parseScope, type LlmService, type RequestKind } from './llm.js';

/** The failed command an explanation is about. */
export interface ExplainedCommand {
  seq: number;
  command: string | null;
  exitCode: number | null;
}

/** Said when `ask -c` finds nothing to continue. */
export const NOTHING_TO_CONTINUE = 'nothing to continue: no earlier ::ask or explanation in this session (ask without -c first)';

export class ThreadKeeper {
  /** Threads being answered now: a second follow-up waits its turn by failing, and retention keeps them. */
  private readonly busy = new Set<ThreadId>();

  constructor(
    private readonly threads: ThreadStore,
    private readonly sessions: SessionStore,
    private readonly llm: LlmService,
    private readonly config: OmnishConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Serves `ask`: a new thread, or a follow-up in the thread that `continue` or `thread` names;
   * streams the answer through `onText` and stores the exchange.
   * @returns the answer, with the thread's id when it could be stored
   * @throws UsageError for bad params, nothing to continue, an unknown or busy thread; what LlmService.ask throws
   */
  async ask(params: UntrustedParams<'ask'>, onText: (text: string) => void, signal: AbortSignal, extra: Pick<RequestKind, 'onTool'> = {}): Promise<AskResult> {
    const question = typeof params.question === 'string' ? params.question.trim() : '';
    if (!question) throw new UsageError('ask needs a question');
    const scope = parseScope(params);
    if (params.continue === true && params.thread !== undefined) throw new UsageError('-c and --thread cannot be used together');
    const earlier = params.continue === true ? this.latestOf(typeof params.session === 'string' ? params.session : undefined)
      : typeof params.thread === 'string' ? this.threads.resolve(params.thread) : undefined;
    if (params.continue === true && !earlier) throw new UsageError(NOTHING_TO_CONTINUE);
    if (earlier) return this.followUp(earlier, scope, question, onText, signal, extra);
    let sent = '';
    const askedAt = new Date(this.now()).toISOString();
    const result = await this.llm.ask('ask', scope, question, onText, signal, { ...extra, onBuilt: (b) => void (sent = b.user) });
    const session = scope.session ?? (scope.scope === 'latest' ? this.sessions.list()[0]?.id : undefined);
    const thread = this.start('ask', this.sessionId(session), { role: 'user', content: sent, question, at: askedAt }, result);
    return this.store(thread) ? { ...result, thread: thread.id } : result;
  }

  /**
   * Stores an auto-explanation of `command` in session `sessionId` as a new thread, so that
   * `::ask -c` can follow it up. Never throws: a failure is logged.
   * @param sent - the user message as sent (the context and omnish's question)
   */
  explained(sessionId: string, command: ExplainedCommand, question: string, sent: string, result: AskResult, askedAtMs: number): void {
    const thread = this.start('explain', sessionId, { role: 'user', content: sent, question, at: new Date(askedAtMs).toISOString() }, result);
    thread.explained = { seq: command.seq, command: command.command, exitCode: command.exitCode };
    this.store(thread);
  }

  /**
   * Serves `threads-rm`: deletes the threads named (ids or unique prefixes; all are resolved
   * before any is deleted), or every thread with `all`.
   * @throws UsageError for bad params, an unknown or ambiguous id, a thread being answered now
   */
  remove(params: UntrustedParams<'threads-rm'>): ThreadsRmResult {
    const ids = Array.isArray(params.ids) ? params.ids : [];
    if (!ids.every((id): id is string => typeof id === 'string')) throw new UsageError('thread ids must be strings');
    if (params.all === true && ids.length > 0) throw new UsageError('--all takes no thread ids');
    if (params.all !== true && ids.length === 0) throw new UsageError('which thread? give its id (see omnish threads), or --all');
    const doomed = params.all === true ? this.threads.list().map((t) => t.id) : [...new Set(ids.map((id) => this.threads.resolve(id).id))];
    const busy = doomed.find((id) => this.busy.has(id));
    if (busy && params.all !== true) throw new UsageError(`thread ${busy} is answering a question now; try again when it is done`);
    return { removed: doomed.filter((id) => !this.busy.has(id) && this.threads.remove(id)) };
  }

  /**
   * Retention for threads, after the sessions' own (`report`): deletes those of sessions that are
   * gone (for a dry run, those the report would evict count as gone) and those not updated for
   * `[store] max_age_days`; adds them to `report.threads`. Never throws: a failure is logged.
   */
  retain(report: RetentionReport, dryRun: boolean): RetentionReport {
    try {
      const evicted = new Set(report.evicted.map((e) => e.id));
      const sessionIds = new Set(this.sessions.list().map((s) => s.id).filter((id) => !evicted.has(id)));
      report.threads = pruneThreads(this.threads, { sessionIds, maxAgeDays: this.config.store.maxAgeDays, dryRun, busy: this.busy, now: this.now });
      if (report.threads.length > 0) this.log.info({ dryRun, threads: report.threads }, dryRun ? 'thread retention (dry run)' : 'thread retention deleted threads');
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'thread retention failed');
    }
    return report;
  }

  /** The latest thread of the session `ref` names (id or prefix), or of all sessions without one. */
  private latestOf(ref: string | undefined): ThreadRecord | undefined {
    if (ref === undefined) return this.threads.latest();
    const id = this.sessionId(ref);
    // A session that is not stored yet (a shell that has just started) has no thread either.
    return id === null ? undefined : this.threads.latest(id);
  }

  /** The full id of the session `ref` names, null when there is none. */
  private sessionId(ref: string | undefined): string | null {
    if (ref === undefined) return null;
    try {
      return this.sessions.resolve(ref).id;
    } catch {
      return null;
    }
  }

  private async followUp(thread: ThreadRecord, scope: ReturnType<typeof parseScope>, question: string, onText: (text: string) => void, signal: AbortSignal, extra: Pick<RequestKind, 'onTool'>): Promise<AskResult> {
    if (this.busy.has(thread.id)) throw new UsageError(`thread ${thread.id} is answering a question now; try again when it is done`);
    this.busy.add(thread.id);
    try {
      const { CHARS_PER_TOKEN } = await import('../llm/context-select.js');
      const { followUpMessage, pickHistory } = await import('../llm/followup.js');
      const { systemPrompt } = await import('../llm/prompt.js');
      // The later exchanges share one context's budget; the first one (the context) is always sent.
      const history = pickHistory(thread.turns, this.config.llm.maxContextTokens * CHARS_PER_TOKEN);
      const askedAt = new Date(this.now()).toISOString();
      const message = await followUpMessage({
        store: this.sessions, session: thread.session, sinceMs: Date.parse(thread.updatedAt), question, omitted: history.omitted,
        redact: this.config.redact, now: this.now(),
      });
      const system = systemPrompt('ask');
      const chars = system.length + message.user.length + history.messages.reduce((n, m) => n + m.content.length, 0);
      const kind: RequestKind = {
        ...extra,
        history: history.messages,
        prebuilt: { system, user: message.user, stats: { sessions: thread.session ? 1 : 0, commands: message.commands, chars, approxTokens: Math.ceil(chars / CHARS_PER_TOKEN), redactions: message.redactions } },
      };
      const result = await this.llm.ask('ask', { ...scope, ...(thread.session ? { scope: 'session', session: thread.session } : {}) }, question, onText, signal, kind);
      // Deleted meanwhile (`omnish threads rm`): the answer is shown, the thread stays deleted.
      const current = this.threads.get(thread.id);
      if (!current) return result;
      current.turns.push({ role: 'user', content: message.user, question, at: askedAt }, this.answer(result));
      Object.assign(current, { updatedAt: new Date(this.now()).toISOString(), backend: result.backend, model: result.model });
      return this.store(current) ? { ...result, thread: current.id } : result;
    } finally {
      this.busy.delete(thread.id);
    }
  }

  /** A new thread of one exchange. */
  private start(kind: ThreadRecord['kind'], session: string | null, asked: ThreadTurn, result: AskResult): ThreadRecord {
    const now = new Date(this.now()).toISOString();
    return {
      formatVersion: THREAD_FORMAT_VERSION, id: this.freshId(), session, kind, createdAt: asked.at, updatedAt: now,
      backend: result.backend, model: result.model, turns: [asked, this.answer(result)],
    };
  }

  private answer(result: AskResult): ThreadTurn {
    return { role: 'assistant', content: result.answer, at: new Date(this.now()).toISOString(), backend: result.backend, model: result.model };
  }

  /** An id no stored thread has (a clash among 2^32 is rare, but a thread must never replace another). */
  private freshId(): ThreadId {
    for (;;) {
      const id = newThreadId();
      if (!existsSync(this.threads.path(id))) return id;
    }
  }

  /** Saves `thread`; false (logged) when it cannot be written: the answer still reaches the user. */
  private store(thread: ThreadRecord): boolean {
    try {
      this.threads.save(thread);
      return true;
    } catch (err) {
      this.log.error({ thread: thread.id, err: (err as Error).message }, 'cannot store thread');
      return false;
    }
  }
}
