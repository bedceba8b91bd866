/**
 * Threads: the stored conversations of `omnish ask` / `::ask` and of auto-explanations, so that a
 * follow-up (`ask -c`, `ask --thread ID`) can send the earlier turns again (docs/llm.md, "Threads
 * and follow-ups"). One JSON file per thread, `<dataDir>/threads/<id>.json`, mode 0600 in a 0700
 * directory, replaced atomically (written to a temporary name, fsynced, renamed) so that a reader
 * or a crash sees the old thread or the new one, never part of one. Only the daemon writes here;
 * `omnish threads` reads.
 *
 * Retention (`pruneThreads`) deletes the threads of sessions that are gone and those not updated
 * for `max_age_days`.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { StoreError, UsageError } from '../common/errors.js';
import { makeDirs } from '../common/fs.js';
import { threadsDir } from '../common/paths.js';
import type { SessionId } from './meta.js';

/** A thread's id: 8 lowercase hex digits. */
export type ThreadId = string;

/** Version of the thread file format; a file of another version is skipped by readers. */
export const THREAD_FORMAT_VERSION = 1;

/** One turn of a thread, as sent to the model (user) or as the model answered (assistant). */
export interface ThreadTurn {
  role: 'user' | 'assistant';
  /**
   * User turns: exactly what was sent, redacted (the first one holds the terminal context and the
   * question; a later one what happened since, if anything, and the question). Assistant turns:
   * the answer as the model wrote it (untrusted: sanitize before showing it on a terminal).
   */
  content: string;
  /** User turns: the question as asked (for an explanation, the question omnish asked). */
  question?: string;
  /** When the turn was sent (user) or the answer was complete (assistant), ISO 8601 UTC. */
  at: string;
  /** Assistant turns: config name of the backend that answered, and the model it reported. */
  backend?: string;
  model?: string;
}

/** A stored thread: one file, `<id>.json`. */
export interface ThreadRecord {
  formatVersion: typeof THREAD_FORMAT_VERSION;
  id: ThreadId;
  /** The session the thread is about (the asker's, or the newest one); null when there was none. */
  session: SessionId | null;
  /** 'ask': the user asked; 'explain': an auto-explanation of a failed command. */
  kind: 'ask' | 'explain';
  /** Kind 'explain': the failed command (its line is terminal text: untrusted). */
  explained?: { seq: number; command: string | null; exitCode: number | null };
  /** When the first question was sent, and when the last answer was stored, ISO 8601 UTC. */
  createdAt: string;
  updatedAt: string;
  /** Backend and model of the last answer. */
  backend: string;
  model: string;
  /** Oldest first, alternating user and assistant, starting with a user turn. */
  turns: ThreadTurn[];
}

/** Why retention deleted a thread: `age` not updated for max_age_days, `session` its session is gone. */
export type ThreadPruneReason = 'age' | 'session';

/** The limits and facts `pruneThreads` judges by. */
export interface ThreadPruneOptions {
  /** Ids of the sessions that exist (after the sessions' own retention). */
  sessionIds: ReadonlySet<SessionId>;
  /** Days without an update after which a thread goes; 0 keeps threads regardless of age. */
  maxAgeDays: number;
  /** Say what would be deleted, delete nothing. */
  dryRun?: boolean;
  /** Threads being answered now: never deleted. */
  busy?: ReadonlySet<ThreadId>;
  /** The clock, ms since the epoch (default Date.now). */
  now?: () => number;
}

const ID = /^[0-9a-f]{8}$/;
const FILE = /^([0-9a-f]{8})\.json$/;
const DAY_MS = 86_400_000;

/** A new random thread id. */
export function newThreadId(): ThreadId {
  return randomBytes(4).toString('hex');
}

function isTurn(t: unknown): t is ThreadTurn {
  const turn = t as Record<string, unknown> | null;
  return typeof turn === 'object' && turn !== null && (turn.role === 'user' || turn.role === 'assistant') && typeof turn.content === 'string' && typeof turn.at === 'string';
}

/**
 * Checks a parsed thread file.
 * @throws StoreError naming `path` and what is wrong
 */
export function parseThread(json: unknown, path: string): ThreadRecord {
  const t = json as Record<string, unknown> | null;
  const bad = (what: string): never => {
    throw new StoreError(`${path}: not a thread (${what})`);
  };
  if (typeof t !== 'object' || t === null) return bad('not an object');
  if (t.formatVersion !== THREAD_FORMAT_VERSION) return bad(`format version ${String(t.formatVersion)}`);
  if (typeof t.id !== 'string' || !ID.test(t.id)) return bad('id');
  if (t.session !== null && typeof t.session !== 'string') return bad('session');
  if (t.kind !== 'ask' && t.kind !== 'explain') return bad('kind');
  for (const k of ['createdAt', 'updatedAt', 'backend', 'model'] as const) if (typeof t[k] !== 'string') return bad(k);
  if (!Array.isArray(t.turns) || t.turns.length === 0 || !t.turns.every(isTurn)) return bad('turns');
  return t as unknown as ThreadRecord;
}

/** The threads directory. Only the daemon writes to it; the CLI reads. */
export class ThreadStore {
  /** Absolute path of the threads directory. */
  readonly root: string;

  constructor(root: string = threadsDir()) {
    this.root = resolvePath(root);
  }

  /** Path of thread `id`'s file. */
  path(id: ThreadId): string {
    return join(this.root, `${id}.json`);
  }

  /**
   * Writes `thread` (a new one or a new version), atomically, mode 0600; creates the directory
   * (0700) if need be.
   * @throws StoreError if it cannot be written (nothing is left behind then)
   */
  save(thread: ThreadRecord): void {
    if (!ID.test(thread.id)) throw new StoreError(`invalid thread id '${thread.id}'`);
    const path = this.path(thread.id);
    const tmp = join(this.root, `.${thread.id}.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      makeDirs(this.root, 0o700);
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeFileSync(fd, `${JSON.stringify(thread)}\n`);
        // Without the fsync a power cut could leave an empty file under the new name.
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new StoreError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Thread `id`, or undefined when there is none (or its file is not a readable thread). */
  get(id: ThreadId): ThreadRecord | undefined {
    if (!ID.test(id)) return undefined;
    try {
      return parseThread(JSON.parse(readFileSync(this.path(id), 'utf8')), this.path(id));
    } catch {
      return undefined;
    }
  }

  /**
   * Every readable thread, the most recently updated first. Unreadable or foreign files are
   * skipped, so one bad file cannot hide the others.
   * @throws StoreError only if the directory exists but cannot be read
   */
  list(): ThreadRecord[] {
    const out: ThreadRecord[] = [];
    for (const id of this.ids()) {
      const t = this.get(id);
      if (t) out.push(t);
    }
    return out.sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt) || (a.id < b.id ? -1 : 1));
  }

  /**
   * The most recently updated thread of `session` (any session's when `session` is undefined).
   * @throws StoreError only if the directory exists but cannot be read
   */
  latest(session?: SessionId): ThreadRecord | undefined {
    return this.list().find((t) => session === undefined || t.session === session);
  }

  /**
   * The thread a user means by an id or a unique prefix of one (case-insensitive).
   * @throws UsageError with one line: not hex, no match, ambiguous
   */
  resolve(prefix: string): ThreadRecord {
    const want = prefix.toLowerCase();
    if (!/^[0-9a-f]{1,8}$/.test(want)) throw new UsageError(`'${[...prefix].slice(0, 20).join('').replace(/[^\x20-\x7e]/g, '?')}' is not a thread id (8 hex digits, see omnish threads)`);
    const named = this.ids().filter((id) => id.startsWith(want));
    if (named.length > 1) throw new UsageError(`thread '${want}' is ambiguous: ${named.slice(0, 5).join(', ')}${named.length > 5 ? ', …' : ''}`);
    const found = named[0] === undefined ? undefined : this.get(named[0]);
    if (!found) throw new UsageError(`no thread matches '${want}' (see omnish threads)`);
    return found;
  }

  /** Deletes thread `id`. @returns false when it did not exist. @throws StoreError if it cannot be deleted */
  remove(id: ThreadId): boolean {
    try {
      rmSync(this.path(id));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new StoreError(`cannot delete ${this.path(id)}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Ids of the thread files, unread. */
  private ids(): ThreadId[] {
    return this.names().flatMap((n) => FILE.exec(n)?.[1] ?? []);
  }

  /** Names in the directory ([] when it does not exist yet). */
  names(): string[] {
    try {
      return readdirSync(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StoreError(`cannot read ${this.root}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/**
 * Retention for threads: deletes those whose session no longer exists and those not updated for
 * `maxAgeDays`, and the temporary files of writes a crash interrupted. A thread without a session
 * goes by age only; a busy thread is kept.
 * @returns the threads deleted (or that would be, for a dry run), oldest update first; a thread that
 *   cannot be deleted is left out and tried again next time
 * @throws StoreError only if the directory exists but cannot be read
 */
export function pruneThreads(store: ThreadStore, options: ThreadPruneOptions): Array<{ id: ThreadId; reason: ThreadPruneReason }> {
  const { sessionIds, maxAgeDays, dryRun = false, busy = new Set<ThreadId>(), now = Date.now } = options;
  // Only this process writes here, and synchronously: a temporary file seen now is debris.
  if (!dryRun) for (const n of store.names()) if (n.endsWith('.tmp')) rmSync(join(store.root, n), { force: true });
  const out: Array<{ id: ThreadId; reason: ThreadPruneReason }> = [];
  for (const t of store.list().reverse()) {
    if (busy.has(t.id)) continue;
    const reason: ThreadPruneReason | undefined = t.session !== null && !sessionIds.has(t.session)
      ? 'session'
      : maxAgeDays > 0 && now() - Date.parse(t.updatedAt) > maxAgeDays * DAY_MS ? 'age' : undefined;
    if (!reason) continue;
    try {
      if (!dryRun) store.remove(t.id);
      out.push({ id: t.id, reason });
    } catch {
      // Left for the next run; the thread is still listed, so nothing is hidden.
    }
  }
  return out;
}
