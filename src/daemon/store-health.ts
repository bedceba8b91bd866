/**
 * Whether the store can be written, as `omnish status`, `::status` and `omnish doctor` report it,
 * and the log lines about it. A full disk fails every write of every session, several times a
 * second: the first failure of an episode is logged at once (and a change of error, ENOSPC to
 * EROFS), repeats only as one line per LOG_INTERVAL_MS with their count, and the end of the episode
 * once, with the bytes lost. So the log stays small whatever the disk does.
 *
 * An episode ends when every session that failed has written again and no write has failed for
 * QUIET_MS: a nearly full disk lets a small write through now and then (the free end of a page)
 * between failing large ones, which must not read as "fixed" twice a second.
 */
import type { StoreProblem } from '../protocol/index.js';
import type { Logger } from './log.js';

/** At most one "still failing" line per this many ms. */
export const LOG_INTERVAL_MS = 60_000;
/** Writes must have succeeded, with no failure, for this long (ms) before the store counts as writable again. */
export const QUIET_MS = 3000;

/** The cause's errno text of a store error: "ENOSPC: no space left on device" rather than the whole message. */
function describe(err: Error): { error: string; code?: string } {
  let cause: unknown = err;
  while (cause instanceof Error && !(cause as NodeJS.ErrnoException).code && cause.cause !== undefined) cause = cause.cause;
  const code = cause instanceof Error ? (cause as NodeJS.ErrnoException).code : undefined;
  const text = /(E[A-Z]+: [^,]+)/.exec(err.message)?.[1] ?? err.message;
  return code ? { error: text, code } : { error: text };
}

/** See the module comment. One per daemon; sessions report to it by id. */
export class StoreHealth {
  private current: (StoreProblem & { lastFailureMs: number; okSinceFailure: boolean; loggedMs: number; unlogged: number; logged: Set<string> }) | null = null;
  private previous: StoreProblem | null = null;
  /** Sessions whose last write failed (or that could not be opened). */
  private readonly failing = new Set<string>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** A write (or the opening of a session's files) failed for `session`. */
  failed(session: string, err: Error): void {
    const now = this.now();
    const { error, code } = describe(err);
    this.failing.add(session);
    const p = this.current;
    if (!p) {
      this.current = { error, ...(code ? { code } : {}), sinceMs: now, lostBytes: 0, failures: 1, lastFailureMs: now, okSinceFailure: false, loggedMs: now, unlogged: 0, logged: new Set([error]) };
      this.log.error({ session, err: err.message }, 'store write failed; recording goes on, with a gap for what is lost');
      return;
    }
    p.failures++;
    p.lastFailureMs = now;
    p.okSinceFailure = false;
    if (p.error !== error) {
      p.error = error;
      if (code) p.code = code;
      else delete p.code;
    }
    // Each kind of error once at once (two alternating ones must not log every time either).
    if (!p.logged.has(error)) {
      p.logged.add(error);
      this.log.error({ session, err: err.message, failures: p.failures, lostBytes: p.lostBytes }, 'store write failed with a new error');
      p.loggedMs = now;
      p.unlogged = 0;
      return;
    }
    p.unlogged++;
    this.tick();
  }

  /** `bytes` of a session's output/input could not be stored. */
  lost(_session: string, bytes: number): void {
    if (this.current) this.current.lostBytes += bytes;
  }

  /** A write of `session` reached the disk. */
  written(session: string): void {
    this.failing.delete(session);
    if (this.current) this.current.okSinceFailure = true;
  }

  /** `session` ended: it will not write again, so it no longer holds the problem open. */
  forget(session: string): void {
    this.failing.delete(session);
  }

  /** Logs repeats once per interval, and ends the episode once writes have gone through for QUIET_MS. Call it often. */
  tick(): void {
    const p = this.current;
    if (!p) return;
    const now = this.now();
    if (this.failing.size === 0 && p.okSinceFailure && now - p.lastFailureMs >= QUIET_MS) {
      this.current = null;
      this.previous = { error: p.error, ...(p.code ? { code: p.code } : {}), sinceMs: p.sinceMs, untilMs: now, lostBytes: p.lostBytes, failures: p.failures };
      this.log.info({ lostBytes: p.lostBytes, failures: p.failures, failedForMs: now - p.sinceMs }, 'store writable again');
      return;
    }
    if (p.unlogged > 0 && now - p.loggedMs >= LOG_INTERVAL_MS) {
      this.log.warn({ err: p.error, repeats: p.unlogged, failures: p.failures, lostBytes: p.lostBytes, sessions: this.failing.size }, 'store writes still failing');
      p.loggedMs = now;
      p.unlogged = 0;
    }
  }

  /** The problem now (null when the store is writable) and the last one that ended. */
  report(): { problem: StoreProblem | null; lastProblem: StoreProblem | null } {
    this.tick();
    const p = this.current;
    const problem = p ? { error: p.error, ...(p.code ? { code: p.code } : {}), sinceMs: p.sinceMs, lostBytes: p.lostBytes, failures: p.failures } : null;
    return { problem, lastProblem: this.previous };
  }
}
