/**
 * omnishd's side of the search index (docs/search.md): it adds each command as it ends, keeps the
 * index in step with retention, catches up from the store when it starts, and rebuilds a missing,
 * damaged or foreign index in the background. Never on the recording's path: a finished command
 * is queued (a few µs) and the queue is written every FLUSH_DELAY_MS in one transaction, in
 * slices of at most SLICE_MS so that a burst of commands cannot hold the event loop. Nothing here
 * throws to its caller: without SQLite, or with a broken index, omnishd records as before and says
 * so once in its log.
 */
import { rmSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { IndexStatusResult } from '../protocol/index.js';
import type { RetentionReport, SessionStore } from '../store/index.js';
import {
  indexedCommand, IndexCorruptError, isCorruption, SearchIndex, sessionCommands, SqliteUnavailableError,
  INDEX_HEAD_BYTES, INDEX_TAIL_BYTES, type IndexedCommand, type SessionInfo,
} from '../search/index.js';
import type { FinishedCommand } from './commands.js';

/** What the indexer logs through: omnishd's pino logger, or the worker's forwarder (index-worker.ts). */
export interface IndexLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** How long a finished command waits before it is written, ms: commands ending together share a transaction. */
export const FLUSH_DELAY_MS = 250;
/** How long after a failed write (or while the file is not open) the indexer tries again, ms. */
const RETRY_MS = 1000;
/** Longest run of indexing work before the event loop gets a turn, ms. */
const SLICE_MS = 20;
/** Least time between two status reports after writes, ms. */
const REPORT_MS = 1000;
/** A catch-up that added at least this share of the index's rows merges it afterwards (SearchIndex.compact). */
const COMPACT_SHARE = 0.25;
/** Most bytes of output held in the queue; past it, commands are dropped and read back from the store later. */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;

/** What the indexer is doing: `omnish index rebuild`, the daemon's log and `omnish search`'s notes say it. */
export type IndexState = IndexStatusResult['state'];

interface Pending {
  session: SessionInfo;
  finished: FinishedCommand;
}

export class Indexer {
  private index: SearchIndex | null = null;
  private state: IndexState = 'starting';
  private problem: string | undefined;
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing = false;
  /** Commands were dropped (queue full, a failed write): the next catch-up reads them from the store. */
  private behind = false;
  /** Sessions retention cut while the index was not open: indexed again once it is. */
  private readonly stale = new Set<string>();
  private work: Promise<unknown> = Promise.resolve();

  private lastReport = 0;
  private reportTimer: NodeJS.Timeout | null = null;

  /**
   * @param onStatus told the status when the state changes, and after a write at most once a
   *   second (the worker passes it on to `omnish status`)
   */
  constructor(
    readonly path: string,
    private readonly store: SessionStore,
    private readonly log: IndexLog,
    private readonly onStatus?: (status: IndexStatusResult) => void,
  ) {}

  /** Tells onStatus; `force` for a change of state, else at most once per REPORT_MS (the last one late rather than never). */
  private report(force: boolean): void {
    if (!this.onStatus) return;
    const wait = this.lastReport + REPORT_MS - performance.now();
    if (!force && wait > 0) {
      this.reportTimer ??= setTimeout(() => {
        this.reportTimer = null;
        this.report(true);
      }, wait).unref();
      return;
    }
    this.lastReport = performance.now();
    this.onStatus(this.status());
  }

  /**
   * Opens the index (creating it) and catches up with the store in the background. A damaged or
   * foreign index is deleted and rebuilt; no SQLite binding means search stays off.
   */
  async start(): Promise<void> {
    try {
      this.index = await this.openOrReplace();
    } catch (err) {
      this.fail(err);
      return;
    }
    const fresh = this.index.counts().commands === 0;
    this.run(fresh ? 'rebuilding' : 'catching-up', () => this.catchUp());
  }

  /** Opens the index; a damaged one is deleted (with its -wal and -shm) and created anew. */
  private async openOrReplace(): Promise<SearchIndex> {
    try {
      const index = await SearchIndex.open(this.path);
      if (index.healthy()) return index;
      index.close();
      throw new IndexCorruptError(`the search index ${this.path} failed SQLite's quick_check`);
    } catch (err) {
      if (!(err instanceof IndexCorruptError)) throw err;
      this.log.warn({ path: this.path, err: err.message }, 'search index damaged; rebuilding it from the store');
      this.removeFiles();
      return SearchIndex.open(this.path);
    }
  }

  private removeFiles(): void {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${this.path}${suffix}`, { force: true });
  }

  private fail(err: unknown): void {
    this.index?.close();
    this.index = null;
    this.state = err instanceof SqliteUnavailableError ? 'unavailable' : 'failed';
    this.problem = (err as Error).message;
    this.log.warn({ path: this.path, err: this.problem }, this.state === 'unavailable' ? 'search is off: no SQLite binding' : 'search index unusable');
    this.report(true);
  }

  /** Runs `job` after the work before it, in state `state`, then back to ready. Errors are handled here. */
  private run<T>(state: IndexState, job: () => Promise<T>): Promise<T | undefined> {
    const next = this.work.then(async () => {
      if (!this.index) {
        // Not open yet (or replaced): what is queued waits, and is tried again.
        if (this.queue.length > 0 || this.behind) this.schedule(RETRY_MS);
        return undefined;
      }
      // Only the long jobs are announced in the file (`omnish search` says results may be incomplete).
      const announced = state === 'rebuilding' || state === 'catching-up';
      this.state = state;
      if (announced) this.report(true);
      try {
        if (announced) this.index.setMeta('state', state);
        return await job();
      } catch (err) {
        await this.failed(err);
        return undefined;
      } finally {
        if (this.index) {
          this.state = 'ready';
          if (announced) this.clearAnnouncement();
          this.report(announced);
        }
      }
    });
    this.work = next.catch(() => undefined);
    return next;
  }

  private clearAnnouncement(): void {
    try {
      this.index?.setMeta('state', null);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cannot clear the search index state');
    }
  }

  /**
   * A write failed: a damaged index is replaced and rebuilt; anything else (a busy or full disk)
   * is logged, and the store is read again for what was lost, RETRY_MS later.
   */
  private async failed(err: unknown): Promise<void> {
    if (!isCorruption(err)) {
      this.behind = true;
      this.log.error({ err: (err as Error).message }, 'search index write failed; will catch up from the store');
      this.schedule(RETRY_MS);
      return;
    }
    this.log.warn({ path: this.path, err: (err as Error).message }, 'search index damaged; rebuilding it from the store');
    try {
      this.index?.close();
    } catch {
      // Closing a damaged database may fail too; the files go next.
    }
    this.index = null;
    this.removeFiles();
    try {
      this.index = await SearchIndex.open(this.path);
      this.behind = true;
      this.schedule();
    } catch (again) {
      this.fail(again);
    }
  }

  /** Queues a command that just ended (called by the session manager after it stored the record). */
  add(session: SessionInfo, finished: FinishedCommand): void {
    if (this.state === 'unavailable' || this.state === 'failed') return;
    const bytes = finished.head.length + finished.output.length;
    if (this.queuedBytes + bytes > MAX_QUEUED_BYTES) {
      this.behind = true; // the store has it: the next catch-up reads it back
      return;
    }
    this.queue.push({ session, finished });
    this.queuedBytes += bytes;
    this.schedule();
  }

  /** Drains the queue (and catches up if behind) `delayMs` from now, unless a drain is already due. */
  private schedule(delayMs = FLUSH_DELAY_MS): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run(this.state === 'starting' ? 'starting' : 'ready', () => this.drain());
    }, delayMs);
    this.timer.unref();
  }

  /**
   * Writes the queue, one transaction per slice: commands are rendered and inserted one by one
   * until SLICE_MS have passed, then the event loop gets a turn. Then catches up if commands were dropped.
   */
  private async drain(): Promise<void> {
    while (this.queue.length > 0 && this.index) {
      const index = this.index;
      const until = performance.now() + SLICE_MS;
      index.transaction(() => {
        while (this.queue.length > 0 && performance.now() < until) {
          const p = this.queue.shift()!;
          this.queuedBytes -= p.finished.head.length + p.finished.output.length;
          index.insert(liveRow(p));
        }
      });
      this.report(false);
      await yieldToLoop();
    }
    if (this.behind) {
      this.behind = false;
      await this.catchUp();
    }
  }

  /**
   * Brings the index in step with the store: removes sessions the store no longer has, re-reads
   * sessions retention cut, and adds the commands it lacks. One session at a time, yielding between.
   */
  private async catchUp(): Promise<void> {
    const index = this.index;
    if (!index) return;
    const started = performance.now();
    const seqs = index.indexedSeqs();
    const sessions = this.store.list().reverse(); // oldest first
    const ids = new Set(sessions.map((s) => s.id));
    const gone = [...seqs.keys()].filter((id) => !ids.has(id));
    index.removeSessions(gone);
    let added = 0;
    for (const s of sessions) {
      if (!this.index) return;
      const stale = this.stale.delete(s.id);
      if (stale) index.removeSessions([s.id]);
      try {
        const rows = sessionCommands(s, stale ? 0 : seqs.get(s.id) ?? 0);
        index.add(rows);
        added += rows.length;
      } catch (err) {
        if (isCorruption(err)) throw err;
        this.log.warn({ session: s.id, err: (err as Error).message }, 'cannot index a session');
      }
      await yieldToLoop();
    }
    const freed = this.compactAfter(index, added, seqs.size, gone.length);
    this.log.info({ added, removedSessions: gone.length, freedBytes: freed, ms: Math.round(performance.now() - started) }, 'search index caught up');
  }

  /**
   * After a catch-up: merges the index when the catch-up added a good part of it (a rebuild, a
   * long time away) and gives free pages back when anything changed. Live commands are left to
   * FTS5's automerge: merging the whole index costs in proportion to its size.
   * @returns bytes freed
   */
  private compactAfter(index: SearchIndex, added: number, sessionsBefore: number, removedSessions: number): number {
    if (added === 0 && removedSessions === 0) return 0;
    try {
      const rows = index.counts().commands;
      return index.compact({ merge: added >= COMPACT_SHARE * rows || sessionsBefore === 0 });
    } catch (err) {
      if (isCorruption(err)) throw err;
      this.log.warn({ err: (err as Error).message }, 'cannot compact the search index');
      return 0;
    }
  }

  /** Retention deleted and cut sessions: their commands leave the index, a cut session is indexed again. */
  retained(report: RetentionReport): void {
    for (const t of report.trimmed) this.stale.add(t.id);
    const evicted = report.evicted.map((e) => e.id);
    if (evicted.length === 0 && report.trimmed.length === 0) return;
    void this.run(this.state === 'starting' ? 'starting' : 'ready', async () => {
      const index = this.index;
      const removed = index?.removeSessions(evicted) ?? 0;
      await this.catchUp();
      if (removed > 0 && index === this.index && index) index.compact({ merge: false });
    });
  }

  /**
   * Drops every row and indexes the store again (`omnish index rebuild`).
   * @returns the status afterwards
   */
  async rebuild(): Promise<IndexStatusResult> {
    if (!this.index) {
      // Unusable so far (a failed open, or damaged): try again from nothing.
      this.removeFiles();
      try {
        this.index = await SearchIndex.open(this.path);
      } catch (err) {
        this.fail(err);
        return this.status();
      }
    }
    await this.run('rebuilding', async () => {
      const index = this.index;
      if (!index) return;
      index.transaction(() => {
        index.db.exec("DELETE FROM commands; INSERT INTO fts (fts) VALUES ('delete-all')");
      });
      await this.catchUp();
    });
    return this.status();
  }

  /** Resolves once the work queued so far is done (tests, shutdown). */
  async idle(): Promise<void> {
    await this.work;
  }

  status(): IndexStatusResult {
    const counts = this.index ? safeCounts(this.index) : { commands: 0, sessions: 0 };
    return { state: this.state, path: this.path, ...counts, ...(this.problem !== undefined && !this.index ? { problem: this.problem } : {}) };
  }

  /** Writes what is queued (best effort) and closes the file. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.reportTimer) clearTimeout(this.reportTimer);
    this.timer = null;
    this.reportTimer = null;
    if (this.queue.length > 0) await this.run('ready', () => this.drain());
    await this.work;
    this.index?.close();
    this.index = null;
  }
}

function safeCounts(index: SearchIndex): { commands: number; sessions: number } {
  try {
    return index.counts();
  } catch {
    return { commands: 0, sessions: 0 };
  }
}

/** The index row of a command the daemon just finished: its head, and its tail from the tracker's last bytes. */
function liveRow({ session, finished }: Pending): IndexedCommand {
  const { record, head, output } = finished;
  const total = record.outputEnd - record.outputStart;
  const headLen = Math.min(head.length, INDEX_HEAD_BYTES);
  const tailLen = Math.min(INDEX_TAIL_BYTES, total - headLen, output.length);
  return indexedCommand(session, record, head.subarray(0, headLen), output.subarray(output.length - Math.max(0, tailLen)));
}
