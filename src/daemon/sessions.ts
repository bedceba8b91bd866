/**
 * The session manager: one live recording per connected client. A client that comes back after a
 * daemon restart or a dropped connection re-registers with `resume: true` and the same session id,
 * and its stream continues in the same session directory.
 */
import { pidAlive } from '../common/process.js';
import type { Connection } from '../transport/index.js';
import type { Gap, IoData, Resize, SessionEnd, SessionStart } from '../protocol/index.js';
import { IoDir } from '../protocol/index.js';
import { defaultConfig, type EventsConfig } from '../config/config.js';
import {
  applyRetention, lastCommandSeq, readEvents, SessionHandle, SessionStore,
  type RetentionLimits, type RetentionReport, type SessionMeta, type StoredSession,
} from '../store/index.js';
import { CommandTracker, type FinishedCommand } from './commands.js';
import { EventDetector } from './events.js';
import type { Logger } from './log.js';

/** A session being recorded now. */
export interface LiveSession {
  readonly id: string;
  readonly handle: SessionHandle;
  readonly conn: Connection;
  /** Splits the output into commands; null without shell integration (no nonce) or if events.jsonl is unreadable. */
  readonly commands: CommandTracker | null;
  /** Shell integration as the client reported it: 'bash', 'zsh', 'fish' or 'off: <reason>'. */
  readonly integration: string;
}


export class SessionManager {
  private readonly live = new Map<string, LiveSession>();
  private detector: EventDetector;
  /** Called for each event after it is stored and sent (auto-explanations hook in here). */
  onEvent: ((session: LiveSession, kind: string, record: FinishedCommand['record']) => void) | undefined;

  constructor(
    readonly store: SessionStore,
    private readonly log: Logger,
    events: EventsConfig = defaultConfig().events,
  ) {
    this.detector = new EventDetector(events);
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
      this.store.updateMeta(s.dir, { active: false, endReason: reason, endedAt: new Date().toISOString() });
      this.log.info({ session: s.id, reason }, 'marked orphaned session');
    }
  }

  /** Registers (or resumes) the session announced by `msg` on `conn`. */
  start(conn: Connection, msg: SessionStart): LiveSession {
    const previous = this.live.get(msg.sessionId);
    if (previous) this.detach(previous, 'client-lost');
    const handle = msg.resume ? this.resume(msg) : this.create(msg);
    const session = { id: msg.sessionId, handle, conn, commands: this.tracker(handle, msg.nonce), integration: msg.integration ?? 'unknown' };
    this.live.set(session.id, session);
    this.log.info({ session: session.id, resume: msg.resume, shell: msg.shell, tty: msg.tty }, 'session started');
    return session;
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
    });
  }

  private resume(msg: SessionStart): SessionHandle {
    try {
      const handle = this.store.openExisting(msg.sessionId);
      if (handle.stream.truncatedBytes > 0) {
        this.log.warn({ session: msg.sessionId, bytes: handle.stream.truncatedBytes }, 'cut a torn tail on resume');
      }
      return handle;
    } catch (err) {
      // The directory is gone or the session had ended: record from here on in a fresh directory.
      this.log.warn({ session: msg.sessionId, err: (err as Error).message }, 'cannot resume; creating the session anew');
      return this.create(msg);
    }
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
    try {
      // Once a command record is visible, its output is in stream.bin too (`omnish show` right away).
      session.handle.stream.flush();
    } catch (err) {
      this.log.error({ session: session.id, err: (err as Error).message }, 'flush failed');
    }
    for (const finished of done) {
      try {
        session.handle.appendEvent(finished.record);
        for (const event of this.detector.detect(finished)) {
          session.handle.appendEvent(event);
          const { type: _type, kind, ...data } = event;
          session.conn.send({ type: 'Event', sessionId: session.id, kind, data: { ...data, command: finished.record.command } });
          this.onEvent?.(session, kind, finished.record);
        }
      } catch (err) {
        this.log.error({ session: session.id, seq: finished.record.seq, err: (err as Error).message }, 'cannot store a command');
      }
    }
  }

  /** Applies a stream message of a live session. */
  record(session: LiveSession, msg: IoData | Resize | Gap): void {
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
  }

  /** The shell ended: write the exit, flush, and close the session. */
  end(session: LiveSession, msg: SessionEnd): SessionMeta {
    this.live.delete(session.id);
    // A command still running (typically `exit` itself) ends with the session.
    if (session.commands) this.track(session, () => session.commands?.finish(msg.tUs) ?? []);
    const meta = session.handle.end(msg.exitCode, msg.signal, 'exit', msg.tUs);
    this.log.info({ session: session.id, exitCode: msg.exitCode, signal: msg.signal }, 'session ended');
    return meta;
  }

  /** The connection went away without SessionEnd (client killed, or it will resume later). */
  detach(session: LiveSession, reason: 'client-lost' | 'daemon-shutdown'): void {
    if (this.live.get(session.id) !== session) return;
    this.live.delete(session.id);
    session.handle.end(null, null, reason);
    this.log.info({ session: session.id, reason }, 'session detached');
  }

  /** Writes buffered stream data of every live session to disk. */
  flushAll(): void {
    for (const s of this.live.values()) {
      try {
        s.handle.stream.flush();
      } catch (err) {
        this.log.error({ session: s.id, err: (err as Error).message }, 'flush failed');
      }
    }
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
