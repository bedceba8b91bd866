/**
 * The session manager: one live recording per connected client. A client that comes back after a
 * daemon restart or a dropped connection re-registers with `resume: true` and the same session id,
 * and its stream continues in the same session directory. A live session belongs to its
 * connection: another one that claims it is refused (refusal()).
 *
 * A store that cannot be written (disk full, read-only) never costs a client its connection: the
 * session stays registered, what cannot be stored is counted (StoreHealth, shown by `omnish
 * status`) and becomes a gap record where the bytes were once writing works again. A session whose
 * directory cannot even be created or reopened waits, counting its bytes, and is retried every
 * OPEN_RETRY_MS.
 */
import { pidAlive } from '../common/process.js';
import type { Connection } from '../transport/index.js';
import type { Gap, IoData, Resize, SessionEnd, SessionStart } from '../protocol/index.js';
import { eventMessage, IoDir } from '../protocol/index.js';
import { defaultConfig, type EventsConfig } from '../config/config.js';
import { StoreError } from '../common/errors.js';
import {
  applyRetention, lastCommandSeq, readEvents, SessionHandle, SessionStore, STORE_WRITE_FAILED,
  type RetentionLimits, type RetentionReport, type SessionMeta, type StoredSession, type StreamWriterOptions,
} from '../store/index.js';
import { CommandTracker, type FinishedCommand } from './commands.js';
import { EventDetector } from './events.js';
import type { Logger } from './log.js';
import { StoreHealth } from './store-health.js';

/** Reason of the gap record that marks where a resumed session's recording was interrupted. */
export const RECONNECT_REASON = 'reconnected to omnishd';

/** How often (ms) a session whose directory could not be created or reopened tries again. */
export const OPEN_RETRY_MS = 1000;

/** A session being recorded now. */
export interface LiveSession {
  readonly id: string;
  /**
   * Its files; null while the store cannot hold them (creating or reopening the directory failed).
   * What arrives meanwhile is counted, and recorded as a gap once the directory opens.
   */
  handle: SessionHandle | null;
  readonly conn: Connection;
  /** Splits the output into commands; null without shell integration (no nonce), if events.jsonl is unreadable, or while handle is null. */
  commands: CommandTracker | null;
  /** Shell integration as the client reported it: 'bash', 'zsh', 'fish' or 'off: <reason>'. */
  readonly integration: string;
  /** The SessionStart that registered it (what `status` shows while handle is null). */
  readonly info: SessionStart;
}

/** What a session without files has received: recorded as a gap (and its last size) once they open. */
interface Unopened {
  /** Output/input bytes received, plus those of client gaps. */
  lostBytes: number;
  /** tUs of the newest message, µs since session start. */
  lastTUs: number;
  resize: { cols: number; rows: number } | null;
  /** No new attempt before this time, ms since the epoch. */
  nextTryMs: number;
}

/** True when a store error comes from the file system (full, read-only, I/O, permissions): worth retrying. */
function fileSystemFailure(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code) return code !== 'ENOENT' && code !== 'ENOTDIR';
  }
  return false;
}


export class SessionManager {
  private readonly live = new Map<string, LiveSession>();
  private readonly unopened = new Map<LiveSession, Unopened>();
  private detector: EventDetector;
  /** Whether the store can be written (`status`, `doctor`), and the log lines about it. */
  readonly health: StoreHealth;
  /** Sessions with records buffered since their last write-out: written in the next turn of the event loop. */
  private readonly unwritten = new Set<LiveSession>();
  private writeScheduled = false;
  /** Called for each event after it is stored and sent (auto-explanations hook in here). */
  onEvent: ((session: LiveSession, kind: string, record: FinishedCommand['record']) => void) | undefined;
  /**
   * Called for each command once its record is stored (the search index queues it here). Must
   * return at once: it runs on the recording's path.
   */
  onCommand: ((meta: SessionMeta, finished: FinishedCommand) => void) | undefined;

  constructor(
    readonly store: SessionStore,
    private readonly log: Logger,
    events: EventsConfig = defaultConfig().events,
    private readonly now: () => number = Date.now,
  ) {
    this.detector = new EventDetector(events);
    this.health = new StoreHealth(log, now);
  }

  /** Judges the commands that finish from now on with `events` (`omnish config set events.…`). */
  setEventsConfig(events: EventsConfig): void {
    this.detector = new EventDetector(events);
  }

  /** Sessions being recorded now. */
  get liveSessions(): ReadonlyMap<string, LiveSession> {
    return this.live;
  }

  /**
   * At start-up: sessions still marked active were orphaned by a daemon that did not shut down
   * cleanly. Mark them; a client still running will resume its session when it reconnects.
   */
  sweepOrphans(): void {
    for (const s of this.store.list()) {
      if (!s.active || this.live.has(s.id)) continue;
      const reason = pidAlive(s.clientPid) ? 'daemon-shutdown' : 'client-lost';
      try {
        this.store.updateMeta(s.dir, { active: false, endReason: reason, endedAt: new Date().toISOString() });
        this.log.info({ session: s.id, reason }, 'marked orphaned session');
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
        this.log.warn({ session: s.id, err: err.message }, 'cannot mark orphaned session');
      }
    }
  }

  /**
   * Why `msg` may not register, or undefined if it may: a live session belongs to its connection.
   * The one exception is the session's own client (same clientPid) coming back before this daemon
   * has seen its old connection close: that connection is dead on the client's side already.
   */
  refusal(msg: SessionStart): string | undefined {
    const previous = this.live.get(msg.sessionId);
    if (!previous || previous.conn.closed || previous.info.clientPid === msg.clientPid) return undefined;
    return `session ${msg.sessionId} is live on another connection`;
  }

  /**
   * Registers (or resumes) the session announced by `msg` on `conn`. Never fails for the store:
   * a session whose files cannot be created yet is registered without them (handle null).
   * Check refusal() first: a live session of the same id is taken over.
   */
  start(conn: Connection, msg: SessionStart): LiveSession {
    const previous = this.live.get(msg.sessionId);
    if (previous) {
      this.detach(previous, 'client-lost');
      previous.conn.destroy();
    }
    const session: LiveSession = { id: msg.sessionId, handle: null, conn, commands: null, integration: msg.integration ?? 'unknown', info: msg };
    this.live.set(session.id, session);
    this.open(session);
    this.log.info({ session: session.id, resume: msg.resume, shell: msg.shell, tty: msg.tty, stored: session.handle !== null }, 'session started');
    return session;
  }

  /** Creates or reopens the session's files; on a store failure, keeps counting and tries again later. */
  private open(session: LiveSession): void {
    const waiting = this.unopened.get(session);
    let handle: SessionHandle;
    let reopened = false;
    try {
      if (session.info.resume) ({ handle, reopened } = this.resume(session.info));
      else handle = this.create(session.info);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      this.health.failed(session.id, err);
      const next = this.now() + OPEN_RETRY_MS;
      if (waiting) waiting.nextTryMs = next;
      else this.unopened.set(session, { lostBytes: 0, lastTUs: 0, resize: null, nextTryMs: next });
      return;
    }
    this.health.written(session.id);
    session.handle = handle;
    if (reopened) this.markOutage(session, handle);
    if (waiting) {
      this.unopened.delete(session);
      const tUs = Math.max(waiting.lastTUs, handle.stream.lastTUs);
      if (waiting.lostBytes > 0) handle.stream.gap(tUs, waiting.lostBytes, STORE_WRITE_FAILED);
      if (waiting.resize) handle.stream.resize(tUs, waiting.resize.cols, waiting.resize.rows);
      this.log.info({ session: session.id, lostBytes: waiting.lostBytes }, 'session stored at last');
    }
    session.commands = this.tracker(handle, session.info.nonce);
  }

  /** The stream writer's options for `id`: its failures and losses go to the store's health. */
  private writerOptions(id: string): StreamWriterOptions {
    return {
      listener: {
        failed: (err) => this.health.failed(id, err),
        lost: (bytes) => this.health.lost(id, bytes),
        written: () => this.health.written(id),
      },
      now: this.now,
    };
  }

  private create(msg: SessionStart): SessionHandle {
    return this.store.create({
      id: msg.sessionId,
      hostname: msg.hostname,
      pid: msg.shellPid,
      clientPid: msg.clientPid,
      tty: msg.tty,
      shell: msg.shell,
      cwd: msg.cwd,
      term: msg.term,
      cols: msg.cols,
      rows: msg.rows,
      startedAt: new Date(msg.startedAtMs).toISOString(),
    }, this.writerOptions(msg.sessionId));
  }

  /**
   * Reopens the session's files, or creates them anew when they are gone.
   * @returns the handle, and whether it is the session's own files reopened
   * @throws StoreError when the file system fails (the caller retries); not when the session is gone.
   */
  private resume(msg: SessionStart): { handle: SessionHandle; reopened: boolean } {
    try {
      const handle = this.store.openExisting(msg.sessionId, this.writerOptions(msg.sessionId));
      if (handle.stream.truncatedBytes > 0) {
        this.log.warn({ session: msg.sessionId, bytes: handle.stream.truncatedBytes }, 'cut a torn tail on resume');
      }
      return { handle, reopened: true };
    } catch (err) {
      if (fileSystemFailure(err)) throw err;
      // The directory is gone or the session had ended: record from here on in a fresh directory.
      this.log.warn({ session: msg.sessionId, err: (err as Error).message }, 'cannot resume; creating the session anew');
      return { handle: this.create(msg), reopened: false };
    }
  }

  /**
   * A resumed session's client says how much it sent before (SessionStart.sentBytes); what the
   * stream does not account for of it was in flight when the connection broke (in the socket, or
   * in a killed daemon's buffer) and is lost. One gap record marks the outage and counts that
   * loss, 0 when there was none: a reader sees where the recording was interrupted, and how much
   * of it is missing. A client that does not say (an older one) gets no gap: nothing to count.
   */
  private markOutage(session: LiveSession, handle: SessionHandle): void {
    const sent = session.info.sentBytes;
    if (sent === undefined) return;
    const lostBytes = Math.max(0, sent - handle.stream.accountedAtOpen);
    try {
      handle.stream.gap(handle.stream.lastTUs, lostBytes, RECONNECT_REASON);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err; // counted and reported by the writer's listener
    }
    if (lostBytes > 0) this.log.warn({ session: session.id, lostBytes }, 'data in flight lost while the client was away');
  }

  /** A command tracker continuing the session's output offsets and command numbers, or null. */
  private tracker(handle: SessionHandle, nonce: string | undefined): CommandTracker | null {
    if (nonce === undefined) return null;
    try {
      return new CommandTracker(nonce, handle.stream.outputBytes, lastCommandSeq(readEvents(handle.dir)));
    } catch (err) {
      // Without the last seq, numbers would repeat; record the stream without commands instead.
      this.log.warn({ session: handle.meta.id, err: (err as Error).message }, 'not tracking commands');
      return null;
    }
  }

  /**
   * Runs the command tracker (`step`), stores the commands it finished and their events, and tells
   * the client about the events. Never throws: a failure here must not stop the recording.
   */
  private track(session: LiveSession, step: () => FinishedCommand[]): void {
    let done: FinishedCommand[];
    try {
      done = step();
    } catch (err) {
      this.log.error({ session: session.id, err: (err as Error).message, stack: (err as Error).stack }, 'command tracking failed');
      return;
    }
    if (done.length === 0) return;
    const handle = session.handle;
    if (!handle) return;
    try {
      // Once a command record is visible, its output is in stream.bin too (`omnish show` right away).
      handle.stream.flush();
    } catch (err) {
      if (!(err instanceof StoreError)) throw err; // counted and reported by the writer's listener
    }
    for (const finished of done) {
      try {
        handle.appendEvent(finished.record);
        this.onCommand?.(handle.meta, finished);
        for (const event of this.detector.detect(finished)) {
          handle.appendEvent(event);
          const { type: _type, kind, ...data } = event;
          session.conn.send(eventMessage(session.id, kind, { ...data, command: finished.record.command }));
          this.onEvent?.(session, kind, finished.record);
        }
      } catch (err) {
        if (err instanceof StoreError) this.health.failed(session.id, err);
        else this.log.error({ session: session.id, seq: finished.record.seq, err: (err as Error).message }, 'cannot store a command');
      }
    }
  }

  /** Applies a stream message of a live session. A store failure is counted, never thrown. */
  record(session: LiveSession, msg: IoData | Resize | Gap): void {
    if (this.live.get(session.id) !== session) return; // taken over by its client's new connection
    if (!session.handle) return this.count(session, msg);
    const stream = session.handle.stream;
    switch (msg.type) {
      case 'IoData':
        if (msg.dir === IoDir.Output) {
          const offset = stream.outputBytes; // the chunk's place in the output byte stream
          stream.output(msg.tUs, msg.data);
          if (session.commands) this.track(session, () => session.commands?.output(msg.tUs, msg.data, offset) ?? []);
        } else stream.input(msg.tUs, msg.data);
        break;
      case 'Resize':
        // meta.json keeps the size at session start (docs/store-format.md); later sizes are resize
        // records, which is how `omnish show` knows the size a command's output was written for.
        stream.resize(msg.tUs, msg.cols, msg.rows);
        break;
      case 'Gap':
        stream.gap(msg.tUs, msg.lostBytes, msg.reason);
        break;
    }
    this.scheduleWrite(session);
  }

  /**
   * Writes the session's buffered records once this turn of the event loop has decoded what its
   * connections delivered: one append per session per turn, however many messages came. A daemon
   * killed then loses only what it had not read from its socket yet, not up to a flush interval
   * of output it had (and the client counts that as sent: a gap on resume says how much).
   */
  private scheduleWrite(session: LiveSession): void {
    this.unwritten.add(session);
    if (this.writeScheduled) return;
    this.writeScheduled = true;
    setImmediate(() => {
      this.writeScheduled = false;
      for (const s of this.unwritten) if (this.live.get(s.id) === s) this.write(s);
      this.unwritten.clear();
    });
  }

  /** Writes the session's buffered records to disk; a store failure is counted by the writer's listener, never thrown. */
  private write(s: LiveSession): void {
    try {
      s.handle?.stream.flush();
    } catch (err) {
      if (!(err instanceof StoreError)) this.log.error({ session: s.id, err: (err as Error).message }, 'flush failed');
    }
  }

  /** A message for a session without files: what it would have stored is lost, and counted. */
  private count(session: LiveSession, msg: IoData | Resize | Gap): void {
    const waiting = this.unopened.get(session);
    if (!waiting) return;
    waiting.lastTUs = Math.max(waiting.lastTUs, msg.tUs);
    if (msg.type === 'IoData') {
      waiting.lostBytes += msg.data.length;
      this.health.lost(session.id, msg.data.length);
    } else if (msg.type === 'Resize') waiting.resize = { cols: msg.cols, rows: msg.rows };
    else waiting.lostBytes += msg.lostBytes;
  }

  /**
   * The shell ended: write the exit, flush, and close the session.
   * @returns the final meta, or null if nothing of the session could be stored (or it was not live)
   */
  end(session: LiveSession, msg: SessionEnd): SessionMeta | null {
    if (this.live.get(session.id) !== session) return null;
    this.live.delete(session.id);
    if (!session.handle) this.open(session); // one last try: the exit and a gap are worth having
    this.unopened.delete(session);
    this.health.forget(session.id);
    const handle = session.handle;
    if (!handle) {
      this.log.warn({ session: session.id, exitCode: msg.exitCode }, 'session ended; the store never could hold it');
      return null;
    }
    // A command still running (typically `exit` itself) ends with the session.
    if (session.commands) this.track(session, () => session.commands?.finish(msg.tUs) ?? []);
    this.log.info({ session: session.id, exitCode: msg.exitCode, signal: msg.signal }, 'session ended');
    return this.close(session, handle, () => handle.end(msg.exitCode, msg.signal, 'exit', msg.tUs));
  }

  /** The connection went away without SessionEnd (client killed, or it will resume later). */
  detach(session: LiveSession, reason: 'client-lost' | 'daemon-shutdown'): void {
    if (this.live.get(session.id) !== session) return;
    this.live.delete(session.id);
    this.unopened.delete(session);
    this.health.forget(session.id);
    const handle = session.handle;
    if (handle) this.close(session, handle, () => handle.end(null, null, reason));
    this.log.info({ session: session.id, reason }, 'session detached');
  }

  /** Runs `end` (handle.end) and reports a store failure instead of throwing it. */
  private close(session: LiveSession, handle: SessionHandle, end: () => SessionMeta): SessionMeta | null {
    try {
      return end();
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      this.health.failed(session.id, err);
      this.health.forget(session.id);
      return handle.meta;
    }
  }

  /**
   * Writes buffered stream data of every live session to disk, retries the sessions that have no
   * files yet, and lets the store's health log and recover. Never throws for the store.
   */
  flushAll(): void {
    const now = this.now();
    for (const s of this.live.values()) {
      if (!s.handle) {
        if (now >= (this.unopened.get(s)?.nextTryMs ?? 0)) this.open(s);
        continue;
      }
      this.write(s);
    }
    this.health.tick();
  }

  /** Daemon shutdown: flush and mark every live session. */
  shutdown(): void {
    for (const s of [...this.live.values()]) this.detach(s, 'daemon-shutdown');
  }

  /** Stored sessions with `active` meaning "recorded right now by this daemon". */
  list(): StoredSession[] {
    return this.store.list().map((s) => ({ ...s, active: this.live.has(s.id) }));
  }

  /**
   * Applies the `[store]` limits (src/store/retention.ts) with the sessions recorded now protected,
   * and logs what it freed. Synchronous, so no session can start, resume or end halfway through.
   * @throws StoreError only when the sessions directory cannot be read.
   */
  retain(limits: RetentionLimits, dryRun = false): RetentionReport {
    const report = applyRetention(this.store, limits, { liveIds: new Set(this.live.keys()), dryRun });
    for (const e of report.errors) this.log.error({ session: e.id, err: e.message }, 'retention failed for a session');
    if (report.freedBytes > 0 || dryRun) {
      const { freedBytes, evicted, trimmed, totalBytesBefore, totalBytesAfter } = report;
      this.log.info({ dryRun, freedBytes, evicted, trimmed, totalBytesBefore, totalBytesAfter }, dryRun ? 'retention (dry run)' : 'retention freed space');
    }
    return report;
  }
}
