/**
 * omnishd's handle on the search indexer, which runs in a worker thread (index-worker.ts): the
 * session manager's thread only posts each finished command (a copy of at most ~290 KB), so
 * indexing costs the recording no CPU time even while a burst from many terminals is written.
 * Should the thread fail to start or die, the indexer runs in this thread instead (indexer.ts
 * slices its work so that it still never holds the loop long), and the log says so.
 */
import { Worker } from 'node:worker_threads';
import type { IndexStatusResult } from '../protocol/index.js';
import type { RetentionReport, SessionMeta, SessionStore } from '../store/index.js';
import type { SessionInfo } from '../search/index.js';
import type { FinishedCommand } from './commands.js';
import { Indexer } from './indexer.js';
import type { Logger } from './log.js';

/** Owner → worker. */
export type IndexerMessage =
  | { type: 'add'; session: SessionInfo; finished: FinishedCommand }
  | { type: 'retained'; report: RetentionReport }
  | { type: 'rebuild'; id: number }
  | { type: 'close'; id: number };

/** Worker → owner. */
export type IndexerReply =
  | { type: 'log'; level: 'info' | 'warn' | 'error'; obj: object; msg: string }
  | { type: 'result'; id: number; status: IndexStatusResult }
  | { type: 'status'; status: IndexStatusResult };

export class IndexerThread {
  private worker: Worker | null = null;
  private local: Indexer | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, (status: IndexStatusResult) => void>();
  /** The worker's last report (it reports changes of state, and counts after writes). */
  private current: IndexStatusResult;

  constructor(private readonly path: string, private readonly store: SessionStore, private readonly log: Logger) {
    this.current = { state: 'starting', path, commands: 0, sessions: 0 };
  }

  /** What the indexer is doing now, for `omnish status` (no round trip to the thread). */
  status(): IndexStatusResult {
    return this.local ? this.local.status() : this.current;
  }

  /** Starts the worker (or, if it cannot start, the indexer in this thread). */
  start(): void {
    try {
      const worker = new Worker(new URL('./index-worker.js', import.meta.url), { workerData: { path: this.path, sessionsDir: this.store.root } });
      worker.on('message', (r: IndexerReply) => this.reply(r));
      worker.on('error', (err) => this.fallBack(err));
      worker.unref();
      this.worker = worker;
    } catch (err) {
      this.fallBack(err);
    }
  }

  private reply(r: IndexerReply): void {
    if (r.type === 'log') this.log[r.level](r.obj, r.msg);
    else if (r.type === 'status') this.current = r.status;
    else {
      this.waiting.get(r.id)?.(r.status);
      this.waiting.delete(r.id);
    }
  }

  /** The worker failed: index in this thread from now on (catching up from the store). */
  private fallBack(err: unknown): void {
    this.log.error({ err: (err as Error).message }, 'search indexer thread failed; indexing in the main thread');
    this.worker = null;
    for (const resolve of this.waiting.values()) resolve(this.unavailable((err as Error).message));
    this.waiting.clear();
    if (!this.local) {
      this.local = new Indexer(this.path, this.store, this.log);
      void this.local.start();
    }
  }

  private unavailable(problem: string): IndexStatusResult {
    return { state: 'failed', path: this.path, commands: 0, sessions: 0, problem };
  }

  private ask(type: 'rebuild' | 'close'): Promise<IndexStatusResult> {
    const worker = this.worker;
    if (!worker) return Promise.resolve(this.unavailable('no indexer thread'));
    const id = this.nextId++;
    // The thread is unref'd so that it never keeps omnishd alive, but an answer being awaited must.
    worker.ref();
    return new Promise((resolve) => {
      this.waiting.set(id, (status) => {
        if (this.waiting.size <= 1) worker.unref();
        resolve(status);
      });
      worker.postMessage({ type, id } satisfies IndexerMessage);
    });
  }

  /** Queues a command that just ended (session manager). Returns at once. */
  add(meta: SessionMeta, finished: FinishedCommand): void {
    const session: SessionInfo = { id: meta.id, hostname: meta.hostname, shell: meta.shell, startedAt: meta.startedAt };
    if (this.local) return this.local.add(session, finished);
    this.worker?.postMessage({ type: 'add', session, finished } satisfies IndexerMessage);
  }

  /** Retention deleted or cut sessions. */
  retained(report: RetentionReport): void {
    if (this.local) return this.local.retained(report);
    this.worker?.postMessage({ type: 'retained', report } satisfies IndexerMessage);
  }

  /** `omnish index rebuild`: resolves when done. */
  rebuild(): Promise<IndexStatusResult> {
    return this.local ? this.local.rebuild() : this.ask('rebuild');
  }

  /** Writes what is queued and stops the thread. */
  async close(): Promise<void> {
    if (this.local) return this.local.close();
    if (!this.worker) return;
    await this.ask('close');
    await this.worker.terminate();
    this.worker = null;
  }
}
