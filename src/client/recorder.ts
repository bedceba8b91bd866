/**
 * The copy of the session that goes to omnishd. It never blocks or slows the terminal: output is
 * queued in memory and sent in batches from the event loop, never faster than the socket takes it;
 * what it holds, the socket's buffer included, is bounded (a cap, then a Gap record saying how many
 * bytes were dropped, placed where they would have been: record-queue.ts). With no daemon, the
 * recorder starts one, then keeps reconnecting with backoff; after a reconnect the session
 * registers again (`resume: true`) and the queue drains.
 */
import { hostname } from 'node:os';
import { readlinkSync } from 'node:fs';
import { PROTOCOL_VERSION, checkWelcome, readEvent, type DaemonEvent, type Resize, type SessionEnd, type SessionStart } from '../protocol/index.js';
import { VERSION } from '../common/version.js';
import type { Connection, Transport } from '../transport/index.js';
import type { ExitStatus } from './pty.js';
import { RecordQueue, type QueueOutlet } from './record-queue.js';
import type { OutputSink } from './relay.js';

/** Tunables, all with defaults fit for a terminal. */
export interface RecorderOptions {
  /**
   * Bytes of output held while the daemon is slow or away, the socket's buffer included, before
   * dropping (default 8 MiB).
   */
  capBytes?: number;
  /** First and longest wait between reconnect attempts, ms (defaults 100 and 10 000). */
  backoffMs?: [number, number];
  /** Called when no daemon answers, to start one (detached); at most once per AUTOSTART_INTERVAL_MS. */
  startDaemon?: () => void;
  /** Reads the auth token (the daemon creates it); undefined when there is none yet. */
  token: () => string | undefined;
  /**
   * What holds the session for the daemon: by default a {@link RecordQueue} fed by output(); the
   * native relay passes its own (src/client/native-record.ts), which queues and writes in C.
   */
  buffer?: (onQueued: () => void) => RecordBuffer;
  /**
   * Receives the events the daemon pushes for this session (failures, explanations), of the kinds
   * this build knows and with their data checked; others are skipped.
   */
  onEvent?: (event: DaemonEvent) => void;
}

/** The part of {@link RecordQueue} the recorder uses; the native relay's buffer implements it too. */
export interface RecordBuffer {
  output(data: Buffer, tUs: number): void;
  push(msg: Resize | SessionEnd): void;
  pause(tUs: number): boolean;
  resume(): boolean;
  readonly isPaused: boolean;
  readonly isEmpty: boolean;
  readonly isBlocked: boolean;
  /** Output bytes and Gap lostBytes handed to connections so far (SessionStart.sentBytes); undefined if not counted. */
  readonly sentBytes: number | undefined;
  setOutlet(outlet: (QueueOutlet & { readonly fd?: number }) | undefined): void;
  drained(): void;
  flush(): boolean;
}

/** Identity of the session, as SessionStart carries it. */
export type SessionInfo = Omit<SessionStart, 'type' | 'resume' | 'sentBytes'>;

/** The terminal on fd 0, e.g. /dev/pts/3 ('' if unknown). */
export function ttyName(): string {
  try {
    return readlinkSync('/proc/self/fd/0');
  } catch {
    return '';
  }
}

/** Builds the SessionStart fields for a session starting now. */
export function sessionInfo(sessionId: string, shell: string, shellPid: number, size: { cols: number; rows: number }): SessionInfo {
  return {
    sessionId,
    startedAtMs: Date.now(),
    shell,
    shellPid,
    clientPid: process.pid,
    tty: ttyName(),
    cwd: process.cwd(),
    term: process.env.TERM ?? '',
    cols: size.cols,
    rows: size.rows,
    hostname: hostname(),
  };
}

const HANDSHAKE_TIMEOUT_MS = 2000;
/** A daemon that died is started again, but not more often than this (ms). */
const AUTOSTART_INTERVAL_MS = 5000;

/**
 * The relay's sink for omnishd: the connection's lifecycle (connect, handshake, register, reconnect
 * with backoff, autostart) around a {@link RecordQueue}, which does the batching, the cap and the
 * backpressure.
 */
export class Recorder implements OutputSink {
  private readonly queue: RecordBuffer;
  private conn: Connection | undefined;
  private registered = false;
  private everRegistered = false;
  private flushScheduled = false;
  private connecting = false;
  private ended = false;
  private lastAutostart = -Infinity;
  private backoff: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoffRange: [number, number];

  constructor(
    private readonly transport: Transport,
    private readonly info: SessionInfo,
    private readonly options: RecorderOptions,
  ) {
    const onQueued = (): void => this.scheduleFlush();
    this.queue = options.buffer?.(onQueued) ?? new RecordQueue({ capBytes: options.capBytes ?? 8 * 1024 * 1024, onQueued });
    this.backoffRange = options.backoffMs ?? [100, 10_000];
    this.backoff = this.backoffRange[0];
    void this.connect();
  }

  /** True while registered with a daemon. */
  get connected(): boolean {
    return this.registered;
  }

  /**
   * Stops recording (`::pause`): output is neither kept nor sent until resume(), which records a
   * Gap saying how much was left out and why. Returns false when already paused.
   */
  pause(tUs: number): boolean {
    return this.queue.pause(tUs);
  }

  /** Records again after pause(); returns false when not paused. */
  resume(): boolean {
    return this.queue.resume();
  }

  /** True between pause() and resume(). */
  get isPaused(): boolean {
    return this.queue.isPaused;
  }

  output(data: Buffer, tUs: number): void {
    this.queue.output(data, tUs);
  }

  resize(cols: number, rows: number, tUs: number): void {
    this.queue.push({ type: 'Resize', tUs, cols, rows });
  }

  end(status: ExitStatus, tUs: number): void {
    this.ended = true;
    this.queue.push({ type: 'SessionEnd', tUs, exitCode: status.signal ? null : status.exitCode, signal: status.signal ?? null });
  }

  /**
   * Waits until everything queued has been handed to the daemon's socket, or `timeoutMs` passes.
   * Called once the shell has exited; never delays omnish's exit by more than the timeout.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      this.flush();
      if (this.queue.isEmpty && this.registered && (this.conn?.bufferedBytes ?? 0) === 0) return true;
      if (!this.registered && !this.connecting && this.retryTimer === undefined) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  }

  /** Stops reconnecting and closes the connection. */
  close(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.conn?.close();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.registered || this.queue.isBlocked) return;
    this.flushScheduled = true;
    // Batch everything the pty produced in this turn of the event loop into one write.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (!this.conn || !this.registered) return;
    if (this.queue.flush() && this.ended) this.conn.close();
  }

  private async connect(): Promise<void> {
    if (this.connecting || this.conn) return;
    this.connecting = true;
    try {
      const conn = await this.transport.connect();
      await this.handshake(conn);
      this.conn = conn;
      this.registered = true;
      this.backoff = this.backoffRange[0];
      conn.onClose(() => this.lost());
      conn.onDrain(() => {
        this.queue.drained();
        this.flush();
      });
      conn.onMessage((msg) => {
        if (msg.type !== 'Event' || !this.options.onEvent) return;
        const event = readEvent(msg);
        if (event) this.options.onEvent(event);
      });
      // On a resume, what was sent before: the daemon records what its stream lacks of it as a gap.
      const sentBytes = this.everRegistered ? this.queue.sentBytes : undefined;
      const resume = { resume: this.everRegistered, ...(sentBytes === undefined ? {} : { sentBytes }) };
      conn.send({ type: 'SessionStart', ...this.info, ...resume });
      this.everRegistered = true;
      this.queue.setOutlet(conn);
      this.flush();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const noDaemon = code === 'ENOENT' || code === 'ECONNREFUSED';
      if (noDaemon && this.options.startDaemon && Date.now() - this.lastAutostart >= AUTOSTART_INTERVAL_MS) {
        this.lastAutostart = Date.now();
        this.options.startDaemon();
        this.backoff = this.backoffRange[0];
      }
      this.retryLater();
    } finally {
      this.connecting = false;
    }
  }

  private handshake(conn: Connection): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('no Welcome from omnishd')), HANDSHAKE_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        sub.dispose();
        closeSub.dispose();
      };
      const fail = (err: Error): void => {
        done();
        conn.destroy();
        reject(err);
      };
      const sub = conn.onMessage((msg) => {
        if (msg.type === 'Refused') return fail(new Error(`omnishd refused: ${msg.message}`));
        if (msg.type !== 'Welcome') return fail(new Error(`expected Welcome, got ${msg.type}`));
        const problem = checkWelcome(msg);
        if (problem) return fail(new Error(problem));
        done();
        resolve();
      });
      const closeSub = conn.onClose(() => fail(new Error('omnishd closed the connection during the handshake')));
      const token = this.options.token() ?? '';
      conn.send({ type: 'Hello', protocolVersion: PROTOCOL_VERSION, token, role: 'session', clientVersion: VERSION, pid: process.pid });
    });
  }

  /** The daemon went away: what it had not stored is lost with it; keep queueing and reconnect. */
  private lost(): void {
    this.conn = undefined;
    this.registered = false;
    this.queue.setOutlet(undefined);
    if (this.ended && this.queue.isEmpty) return;
    this.retryLater();
  }

  private retryLater(): void {
    if (this.retryTimer) return;
    const wait = this.backoff;
    // While the daemon this client started is starting up, keep trying at the first interval: it
    // answers within a second or so, and a doubled wait would find it up to that much later. A
    // failed connect costs next to nothing (no socket, or nothing listening).
    if (Date.now() - this.lastAutostart >= AUTOSTART_INTERVAL_MS) this.backoff = Math.min(this.backoff * 2, this.backoffRange[1]);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, wait);
    this.retryTimer.unref();
  }
}
