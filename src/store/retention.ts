/**
 * Retention: keeping the session store within the `[store]` limits of config.toml (docs/store-format.md
 * "Retention"). Ended sessions older than `maxAgeDays` are deleted; an ended session whose stream is
 * over `maxSessionMb` loses the middle of its stream (src/store/trim.ts); then, while the store is
 * over `maxTotalMb`, the ended sessions that ended longest ago are deleted. A live session is never
 * deleted or cut: its writer is appending to it.
 *
 * Pure over the store and a clock (no config, no daemon), so tests run it on a temporary store.
 */
import { readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pidAlive } from '../common/process.js';
import type { SessionId } from './meta.js';
import type { SessionStore, StoredSession } from './store.js';
import { applyTrim, planTrim, recoverTrim, type TrimPlan } from './trim.js';

/** The limits, as in `[store]` (OmnishConfig.store has this shape). 0 turns a limit off. */
export interface RetentionLimits {
  /** All sessions together, MB (1 MB = 1,048,576 bytes). */
  maxTotalMb: number;
  /** One session's stream.bin, MB. */
  maxSessionMb: number;
  /** Age of an ended session, counted from its end, days. */
  maxAgeDays: number;
}

export interface RetentionOptions {
  /** Ids of the sessions the daemon records now. */
  liveIds?: ReadonlySet<SessionId>;
  /** Report what would be done without changing anything (default false). */
  dryRun?: boolean;
  /** The clock, ms since the epoch (default Date.now). */
  now?: () => number;
  /** Whether a process exists (default: kill(pid, 0)); tests replace it. */
  pidAlive?: (pid: number) => boolean;
}

/** What a retention run did (or, for a dry run, would do). Sizes in bytes. */
export interface RetentionReport {
  /** Bytes deleted or cut, all sessions together. */
  freedBytes: number;
  /** Sessions deleted, in the order they were chosen: `age` over maxAgeDays, `total` to get under maxTotalMb. */
  evicted: Array<{ id: SessionId; reason: 'age' | 'total'; bytes: number }>;
  /** Sessions whose stream lost its middle; `bytes` is what that freed. */
  trimmed: Array<{ id: SessionId; bytes: number }>;
  /** Size of all session directories before the run, bytes. */
  totalBytesBefore: number;
  /** Size after it (for a dry run: what it would be), bytes. */
  totalBytesAfter: number;
  /** Sessions that could not be deleted or cut, and why; the rest of the run went on. */
  errors: Array<{ id: SessionId; message: string }>;
  /**
   * Threads deleted (src/store/threads.ts pruneThreads): `session` their session is gone, `age` not
   * updated for maxAgeDays. Absent when threads were not looked at (applyRetention alone does not).
   */
  threads?: Array<{ id: string; reason: 'age' | 'session' }>;
}

const MB = 1024 * 1024;
const DAY_MS = 86_400_000;
/** Prefix a session directory is renamed to before it is deleted; listings ignore such names. */
const EVICTING = '.evicting-';

interface Candidate {
  session: StoredSession;
  live: boolean;
  /** Bytes of every file in the session directory. */
  bytes: number;
  /** Bytes the session keeps if it is trimmed (bytes otherwise). */
  keeps: number;
  trim: TrimPlan | null;
}

/** Bytes of the files in `dir` (session directories hold files only), 0 if it is gone. */
export function dirBytes(dir: string): number {
  let total = 0;
  try {
    for (const name of readdirSync(dir)) total += statSync(join(dir, name)).size;
  } catch {
    // removed meanwhile: it holds nothing
  }
  return total;
}

/** Session directories left half-deleted by a crash during an eviction. */
function removeDebris(root: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    return; // no sessions directory yet
  }
  for (const name of names) if (name.startsWith(EVICTING)) rmSync(join(root, name), { recursive: true, force: true });
}

/**
 * Deletes a session directory. It is renamed first (atomically) to a name listings ignore, so a
 * crash halfway through the deletion never leaves a session with some of its files missing.
 */
function evict(dir: string): void {
  const doomed = join(dirname(dir), `${EVICTING}${basename(dir)}`);
  renameSync(dir, doomed);
  rmSync(doomed, { recursive: true, force: true });
}

/** When a session stopped being recorded, ms since the epoch (its start if it has no end). */
function endedMs(s: StoredSession): number {
  return Date.parse(s.endedAt ?? s.startedAt);
}

/**
 * Applies the limits to `store` once.
 *
 * A session counts as live, and is left alone, when `liveIds` holds it or when its omnish client
 * still runs and it did not end with an exit (it is being recorded by a daemon we do not know
 * about, or its client will resume it after a daemon restart).
 * @returns what was freed; failures on single sessions are in `errors`, never thrown.
 * @throws StoreError only when the sessions directory exists but cannot be read.
 */
export function applyRetention(store: SessionStore, limits: RetentionLimits, options: RetentionOptions = {}): RetentionReport {
  const { liveIds = new Set<SessionId>(), dryRun = false, now = Date.now, pidAlive: alive = pidAlive } = options;
  if (!dryRun) removeDebris(store.root);
  const report: RetentionReport = { freedBytes: 0, evicted: [], trimmed: [], totalBytesBefore: 0, totalBytesAfter: 0, errors: [] };
  const fail = (id: SessionId, err: unknown): void => void report.errors.push({ id, message: (err as Error).message });
  const sessionCap = Math.floor(limits.maxSessionMb * MB);
  const candidates: Candidate[] = store.list().map((session) => {
    const live = liveIds.has(session.id) || (session.endReason !== 'exit' && alive(session.clientPid));
    if (!dryRun && !live) {
      try {
        recoverTrim(session.dir);
      } catch (err) {
        fail(session.id, err);
      }
    }
    const bytes = dirBytes(session.dir);
    return { session, live, bytes, keeps: bytes, trim: null };
  });
  report.totalBytesBefore = candidates.reduce((n, c) => n + c.bytes, 0);

  const doomed: Array<{ c: Candidate; reason: 'age' | 'total' }> = [];
  const ended = candidates.filter((c) => !c.live).sort((a, b) => endedMs(a.session) - endedMs(b.session) || (a.session.dir < b.session.dir ? -1 : 1));
  const kept: Candidate[] = [];
  for (const c of ended) {
    if (limits.maxAgeDays > 0 && now() - endedMs(c.session) > limits.maxAgeDays * DAY_MS) doomed.push({ c, reason: 'age' });
    else kept.push(c);
  }
  // Plan the cuts before choosing by total size: a session cut down may no longer need deleting.
  if (sessionCap > 0) {
    for (const c of kept) {
      try {
        c.trim = planTrim(c.session.dir, sessionCap);
        if (c.trim) c.keeps = c.bytes - (c.trim.oldBytes - c.trim.newBytes);
      } catch (err) {
        fail(c.session.id, err);
      }
    }
  }
  const totalCap = limits.maxTotalMb * MB;
  let total = candidates.filter((c) => c.live).reduce((n, c) => n + c.bytes, 0) + kept.reduce((n, c) => n + c.keeps, 0);
  while (limits.maxTotalMb > 0 && total > totalCap && kept.length > 0) {
    const oldest = kept.shift() as Candidate;
    total -= oldest.keeps;
    doomed.push({ c: oldest, reason: 'total' });
  }

  for (const { c, reason } of doomed) {
    try {
      if (!dryRun) evict(c.session.dir);
      report.evicted.push({ id: c.session.id, reason, bytes: c.bytes });
      report.freedBytes += c.bytes;
    } catch (err) {
      fail(c.session.id, err);
    }
  }
  for (const c of kept) {
    if (!c.trim) continue;
    try {
      if (!dryRun) applyTrim(c.session.dir, c.trim);
      const freed = c.bytes - (dryRun ? c.keeps : dirBytes(c.session.dir));
      report.trimmed.push({ id: c.session.id, bytes: freed });
      report.freedBytes += freed;
    } catch (err) {
      fail(c.session.id, err);
    }
  }
  report.totalBytesAfter = report.totalBytesBefore - report.freedBytes;
  return report;
}
