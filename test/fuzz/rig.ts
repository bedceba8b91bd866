/**
 * The socket fuzz's test bench around one real omnishd: runs hostile connections (attacks.ts)
 * against it while a separate process asks `status` every 100 ms and a live session streams
 * output alongside, and checks after every case what must hold:
 *
 * - the daemon is alive and `status` answered every time within STATUS_DEADLINE_MS;
 * - a connection whose bytes break the protocol is closed by the daemon within CLOSE_DEADLINE_MS,
 *   and one that ends is closed too (nothing lingers);
 * - what the daemon sends is well-formed, and before authentication exactly the Refused (or the
 *   silent close) that the bytes call for;
 *
 * and at the end: the live session's output is in the store byte for byte, with no gap, and the
 * daemon's memory is back near where it started. Shared by test/fuzz.test.ts (bounded, fixed seed)
 * and bench/fuzz.ts (`npm run fuzz -- --minutes N`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sessionsDir } from '../../src/common/paths.js';
import { encodeFrame, PROTOCOL_VERSION, REQUEST_METHODS, type Message } from '../../src/protocol/index.js';
import { RecordKind, readStream, SessionStore, STREAM_FILE } from '../../src/store/index.js';
import { UnixTransport, type Connection } from '../../src/transport/index.js';
import { startDaemon, stopDaemons, waitDaemon } from '../helpers/daemon.js';
import { testEnv } from '../helpers/env.js';
import { ROOT } from '../helpers/paths.js';
import { daemonSocket, daemonToken, helloFrame, rawPeer, sessionStartFrame, type RawPeer } from '../helpers/peer.js';
import { memBytes } from '../helpers/procs.js';
import { waitUntil } from '../helpers/wait.js';
import { attackSize, describeAttack, FAMILIES, type Attack } from './attacks.js';

/** `status` must answer within this, ms, throughout. */
export const STATUS_DEADLINE_MS = 1000;
/** How often the probe asks, ms. */
const PROBE_INTERVAL_MS = 100;
/** A connection that broke the protocol, or ended, must be closed by the daemon within this, ms. */
const CLOSE_DEADLINE_MS = 5000;
/**
 * How the suite's daemon runs, so that "memory returns to baseline" can be checked: its JS heap is
 * capped (a leak there crashes it, and fails the run, instead of hiding in V8's heap, which grows
 * under load and is not given back), and glibc's mmap threshold is fixed at 4 MiB (left dynamic, it
 * rises after the first freed 8 MiB buffer, and later ones stay in the heap). Left as they are, the
 * settled RSS plateaus 40 to 60 MB over the baseline (docs/reliability.md).
 */
export const SUITE_MEMORY_ENV = { NODE_OPTIONS: '--max-old-space-size=32', MALLOC_MMAP_THRESHOLD_: String(4 * 2 ** 20) };

/** A process id no process has (Linux's pid_max is at most 2^22). */
const GONE_PID = 2 ** 30;
/** The live session writes a chunk this often, ms. */
const LIVE_INTERVAL_MS = 20;

/** The figures of a run (docs/reliability.md). */
export interface Figures {
  cases: number;
  connections: number;
  /** Bytes the attacks wrote after their handshakes. */
  bytes: number;
  perFamily: Record<string, number>;
  /** Connections the daemon closed before the peer ended them. */
  closedByDaemon: number;
  /** Refused messages received, by text (numbers and sizes in them replaced by N). */
  refusals: Record<string, number>;
  /** Longest wait for the daemon to close a connection that broke the protocol or ended, ms. */
  maxCloseMs: number;
  status: { asked: number; p50Ms: number; p99Ms: number; maxMs: number; failures: string[] };
  rss: { baselineBytes: number; peakBytes: number; afterBytes: number };
  live: { bytes: number; chunks: number; matches: boolean | null; gaps: number | null };
  idle?: { connections: number; refused: number; peakRssBytes: number; closedWithinMs: number };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/**
 * The status prober: test/fuzz/probe.mjs in its own process, its answers collected here. Also
 * used by the load run (test/load/load.ts), with a longer interval and deadline.
 */
export class StatusProbe {
  readonly latencies: number[] = [];
  readonly failures: string[] = [];
  /** The daemon's open connections at the last answer (the probe's own included). */
  connections = Number.NaN;
  /** An answer later than this is a failure, ms. */
  readonly deadline: number;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  /** @param intervalMs how often to ask; @param deadlineMs an answer later than this is a failure (both ms) */
  constructor(socket: string, token: string, intervalMs = PROBE_INTERVAL_MS, private readonly deadlineMs = STATUS_DEADLINE_MS) {
    this.deadline = deadlineMs;
    this.child = spawn(process.execPath, [join(ROOT, 'test', 'fuzz', 'probe.mjs'), socket, token, String(intervalMs), String(deadlineMs)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const r = JSON.parse(line) as { ms?: number; connections?: number; error?: string };
      if (r.connections !== undefined) this.connections = r.connections;
      if (r.ms !== undefined && r.ms <= this.deadlineMs) this.latencies.push(r.ms);
      else this.failures.push(`${new Date().toISOString()} ${r.error ?? `status took ${r.ms?.toFixed(0)} ms`}`);
    });
  }

  /** Waits until the probe has answered `n` more times than now (the daemon was asked during what just happened). */
  async answered(n = 1): Promise<void> {
    const target = this.latencies.length + this.failures.length + n;
    await waitUntil(() => this.latencies.length + this.failures.length >= target, 'the status probe', 5 * this.deadlineMs);
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    await this.exited;
  }
}

/** A well-behaved session alongside the attacks: random output every LIVE_INTERVAL_MS, kept to compare with the store. */
class LiveSession {
  readonly id = randomBytes(6).toString('hex');
  readonly sent: Buffer[] = [];
  /** Set if the daemon dropped the session's connection. */
  lost: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = Date.now();
  private ending = false;

  private constructor(private readonly conn: Connection) {}

  static async open(socket: string, token: string): Promise<LiveSession> {
    const conn = await new UnixTransport(socket).connect();
    const welcome = new Promise<Message>((resolve) => conn.onMessage(resolve));
    conn.send({ type: 'Hello', protocolVersion: PROTOCOL_VERSION, token, role: 'session', clientVersion: 'fuzz-live', pid: process.pid });
    const first = await welcome;
    if (first.type !== 'Welcome') throw new Error(`live session: expected Welcome, got ${JSON.stringify(first)}`);
    const s = new LiveSession(conn);
    conn.onClose((err) => {
      if (!s.ending) s.lost = `the daemon closed the live session's connection${err ? `: ${err.message}` : ''}`;
    });
    conn.send({
      type: 'SessionStart', sessionId: s.id, resume: false, startedAtMs: s.t0, shell: '/bin/sh', shellPid: process.pid, clientPid: process.pid,
      tty: '', cwd: '/', term: 'xterm-256color', cols: 80, rows: 24, hostname: 'fuzz',
    });
    s.timer = setInterval(() => s.write(), LIVE_INTERVAL_MS);
    return s;
  }

  private tUs(): number {
    return (Date.now() - this.t0) * 1000;
  }

  private write(): void {
    const data = randomBytes(1 + Math.floor(Math.random() * 2048));
    this.sent.push(data);
    this.conn.send({ type: 'IoData', dir: 0, tUs: this.tUs(), data });
  }

  /** Ends the session (SessionEnd) and waits until the daemon has closed it. */
  async end(): Promise<void> {
    clearInterval(this.timer);
    this.ending = true;
    const closed = new Promise<void>((resolve) => this.conn.onClose(() => resolve()));
    this.conn.send({ type: 'SessionEnd', tUs: this.tUs(), exitCode: 0, signal: null });
    await Promise.race([closed, sleep(CLOSE_DEADLINE_MS).then(() => this.conn.destroy())]);
  }
}

/**
 * Asks every control method once, so that what the daemon loads on first use (the LLM layer and
 * its SDKs, the context builder) is in its baseline memory, not counted as what the attacks cost.
 */
async function warmUp(socket: string, token: string): Promise<void> {
  const params: Record<string, Record<string, unknown>> = { ask: { scope: 'latest', question: 'warm up' }, context: { scope: 'latest' }, gc: { dryRun: true } };
  const requests = REQUEST_METHODS.map((method, i) => encodeFrame({ type: 'Request', id: i + 1, method, params: params[method] ?? {} }));
  const peer = rawPeer(socket);
  peer.sock.write(Buffer.concat([helloFrame(token, 'control'), ...requests]));
  await waitUntil(() => peer.received().length > REQUEST_METHODS.length, 'an answer to every method', 30_000);
  peer.sock.destroy();
}

/** The first message the daemon sends on `peer` (undefined if it closes first), woken by the data itself, not polled. */
function firstAnswer(peer: RawPeer): Promise<Message | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new FuzzFailure(`no answer to a valid Hello within ${CLOSE_DEADLINE_MS} ms`)), CLOSE_DEADLINE_MS);
    const check = (): void => {
      const [first] = peer.received();
      if (first) done(first);
    };
    const done = (result: Message | undefined | Error): void => {
      clearTimeout(timer);
      peer.sock.off('data', check);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    peer.sock.on('data', check);
    void peer.closed.then(() => done(peer.received()[0]));
  });
}

/** What broke, with the case that broke it. */
export class FuzzFailure extends Error {}

export class FuzzRig {
  private readonly figures: Figures = {
    cases: 0, connections: 0, bytes: 0, perFamily: Object.fromEntries(FAMILIES.map((f) => [f, 0])), closedByDaemon: 0, refusals: {},
    maxCloseMs: 0, status: { asked: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, failures: [] },
    rss: { baselineBytes: 0, peakBytes: 0, afterBytes: 0 }, live: { bytes: 0, chunks: 0, matches: null, gaps: null },
  };
  private readonly sampler: NodeJS.Timeout;

  private constructor(
    readonly dir: string,
    readonly pid: number,
    private readonly token: string,
    private readonly probe: StatusProbe,
    private readonly live: LiveSession,
  ) {
    this.figures.rss.baselineBytes = memBytes(pid);
    this.figures.rss.peakBytes = this.figures.rss.baselineBytes;
    this.sampler = setInterval(() => this.sampleRss(), 50);
  }

  /**
   * Starts omnishd for test directory `dir` (see test/helpers/env.ts), the status probe and the live session.
   * @param opts.daemonEnv - added to the daemon's environment (e.g. NODE_OPTIONS to look into its memory)
   * @param opts.config - the text of the daemon's config.toml (default: none, the defaults)
   */
  /**
   * @param opts.statusDeadlineMs how late a `status` answer may be (default STATUS_DEADLINE_MS)
   */
  static async start(
    dir: string,
    opts: { daemonEnv?: Record<string, string>; config?: string; statusDeadlineMs?: number } = {},
  ): Promise<FuzzRig> {
    if (opts.config !== undefined) writeFileSync(testEnv(dir).OMNISH_CONFIG!, opts.config);
    startDaemon(dir, { env: testEnv(dir, opts.daemonEnv) });
    const pid = await waitDaemon(dir);
    const socket = daemonSocket(dir);
    const token = daemonToken(dir);
    const probe = new StatusProbe(socket, token, PROBE_INTERVAL_MS, opts.statusDeadlineMs ?? STATUS_DEADLINE_MS);
    const live = await LiveSession.open(socket, token);
    await warmUp(socket, token);
    await probe.answered(3);
    return new FuzzRig(dir, pid, token, probe, live);
  }

  private sampleRss(): void {
    try {
      this.figures.rss.peakBytes = Math.max(this.figures.rss.peakBytes, memBytes(this.pid));
    } catch {
      // gone: alive() reports it
    }
  }

  /** @throws FuzzFailure when the daemon is gone, the live session was dropped, or status was late */
  private checkHealth(context: string): void {
    try {
      process.kill(this.pid, 0);
    } catch {
      throw new FuzzFailure(`omnishd (pid ${this.pid}) is gone after ${context}; its log ends: ${this.logTail()}`);
    }
    if (this.live.lost) throw new FuzzFailure(`${this.live.lost}, after ${context}`);
    if (this.probe.failures.length > 0) throw new FuzzFailure(`status was not answered within ${this.probe.deadline} ms during ${context}: ${this.probe.failures.join('; ')}`);
  }

  /**
   * One case of the property: its attacks at once, each judged; then the daemon's health.
   * @throws FuzzFailure naming the attack and what did not hold
   */
  async runCase(attacks: readonly Attack[]): Promise<void> {
    this.figures.cases++;
    await Promise.all(attacks.map((a) => this.runAttack(a)));
    this.checkHealth(`${attacks.length} attack(s): ${attacks.map(describeAttack).join(' + ')}`);
  }

  private async runAttack(a: Attack): Promise<void> {
    this.figures.connections++;
    this.figures.perFamily[a.family] = (this.figures.perFamily[a.family] ?? 0) + 1;
    this.figures.bytes += attackSize(a);
    const peer = rawPeer(daemonSocket(this.dir));
    let writeFailed = false;
    peer.sock.on('error', () => (writeFailed = true));
    let peerEnded = false;
    await peer.connected;
    if (a.preamble !== 'none') await this.handshake(peer, a);
    for (const chunk of a.chunks) {
      if (peer.sock.destroyed) break;
      peer.sock.write(chunk);
      await new Promise((r) => setImmediate(r)); // often a read of its own on the daemon's side
    }
    const t0 = Date.now();
    if (a.ending === 'destroy') {
      peer.sock.destroy();
      return peer.closed;
    }
    if (a.ending === 'end' && !peer.sock.destroyed) {
      peerEnded = true;
      peer.sock.end();
    }
    const closed = await Promise.race([peer.closed.then(() => true), sleep(CLOSE_DEADLINE_MS).then(() => false)]);
    if (!closed) {
      peer.sock.destroy();
      throw new FuzzFailure(`omnishd did not close within ${CLOSE_DEADLINE_MS} ms a connection that ${peerEnded ? 'ended' : 'broke the protocol'}: ${describeAttack(a)}`);
    }
    this.figures.maxCloseMs = Math.max(this.figures.maxCloseMs, Date.now() - t0);
    if (!peerEnded) this.figures.closedByDaemon++;
    this.judgeAnswers(peer, a, writeFailed);
  }

  /** The daemon's last log lines of level error and above (pino JSON), for failure reports. */
  private logTail(): string {
    try {
      const lines = readFileSync(join(testEnv(this.dir).OMNISH_DATA_DIR!, 'state', 'omnishd.log'), 'utf8').trim().split('\n');
      const bad = lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
      return (bad.length > 0 ? bad : lines).slice(-3).join(' | ').slice(0, 2000);
    } catch (err) {
      return `(no log: ${(err as Error).message})`;
    }
  }

  /** A valid Hello (and SessionStart): the attack's bytes then reach an authenticated connection. */
  private async handshake(peer: RawPeer, a: Attack): Promise<void> {
    peer.sock.write(helloFrame(this.token, a.preamble === 'session' ? 'session' : 'control'));
    const first = await firstAnswer(peer);
    if (first === undefined) this.checkHealth('a valid Hello that got no answer');
    if (first?.type !== 'Welcome') throw new FuzzFailure(`a valid Hello was answered with ${JSON.stringify(first)}`);
    // As the session of a client that is gone, so that retention may delete it (it keeps sessions
    // whose client still runs), as the long run has it do after every batch.
    if (a.preamble === 'session') peer.sock.write(sessionStartFrame(randomBytes(6).toString('hex'), { clientPid: GONE_PID }));
  }

  /** What the daemon sent must decode, and before authentication be exactly what the bytes call for. */
  private judgeAnswers(peer: RawPeer, a: Attack, writeFailed: boolean): void {
    let got: Message[];
    try {
      got = peer.received();
    } catch (err) {
      throw new FuzzFailure(`omnishd sent a malformed frame (${(err as Error).message}) to: ${describeAttack(a)}`);
    }
    for (const m of got) {
      if (m.type === 'Refused') {
        const key = m.message.replace(/0x[0-9a-f]+/g, '0xN').replace(/\d+(\.\d+)?/g, 'N');
        this.figures.refusals[key] = (this.figures.refusals[key] ?? 0) + 1;
      }
    }
    if (a.refused === undefined) return;
    const want: Message[] = a.refused === null ? [] : [{ type: 'Refused', message: a.refused }];
    // A peer whose own write failed (EPIPE: the daemon had closed) may have lost the unread Refused with its socket.
    if (got.length === 0 && writeFailed) return;
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new FuzzFailure(`before authentication omnishd answered ${JSON.stringify(got)}, not ${JSON.stringify(want)}, to: ${describeAttack(a)}`);
    }
  }

  /**
   * `n` connections at once that never say Hello: half send nothing, half the first 3 bytes of a
   * header. `status` must keep answering while they are open; each must get its Refused ('no
   * Hello within 5 s') and be closed.
   */
  async idleConnections(n: number): Promise<void> {
    // Opened 100 at a time, each wave once the daemon has accepted the last: a burst of 1,000
    // connects overflows the listen backlog (511) whenever the daemon is off the CPU for a moment,
    // and connect then fails with EAGAIN (the kernel's limit, and its way to say "try again").
    const peers: RawPeer[] = [];
    while (peers.length < n) {
      const wave = Array.from({ length: Math.min(100, n - peers.length) }, () => rawPeer(daemonSocket(this.dir)));
      await Promise.all(wave.map((p) => p.connected));
      peers.push(...wave);
      // The probe's own connection and the live session's are open too.
      await waitUntil(() => this.probe.connections >= peers.length + 2, () => `omnishd to accept ${peers.length} idle connections (${this.probe.connections} open)`, 5000);
    }
    peers.forEach((p, i) => i % 2 === 1 && p.sock.write(Buffer.from('OM\0')));
    const t0 = Date.now();
    const peakBefore = this.figures.rss.peakBytes;
    this.figures.rss.peakBytes = memBytes(this.pid);
    await this.probe.answered(5);
    this.checkHealth(`opening ${n} idle connections`);
    await Promise.race([Promise.all(peers.map((p) => p.closed)), sleep(5000 + CLOSE_DEADLINE_MS)]);
    const open = peers.filter((p) => !p.sock.destroyed).length;
    for (const p of peers) p.sock.destroy();
    if (open > 0) throw new FuzzFailure(`${open} of ${n} connections that never said Hello were still open after ${Date.now() - t0} ms`);
    const refused = peers.filter((p) => JSON.stringify(p.received()) === JSON.stringify([{ type: 'Refused', message: 'no Hello within 5 s' }])).length;
    this.figures.idle = { connections: n, refused, peakRssBytes: this.figures.rss.peakBytes, closedWithinMs: Date.now() - t0 };
    this.figures.rss.peakBytes = Math.max(peakBefore, this.figures.rss.peakBytes);
    this.figures.connections += n;
    this.checkHealth(`${n} idle connections`);
  }

  /**
   * The daemon's resident memory once the connections of the cases so far are closed (only the
   * probe's and the live session's are left), bytes.
   */
  async settledRss(): Promise<number> {
    await waitUntil(() => this.probe.connections <= 2, () => `the cases' connections to close (${this.probe.connections} open)`, CLOSE_DEADLINE_MS);
    await this.probe.answered(2);
    return memBytes(this.pid);
  }

  /**
   * Applies the `[store]` limits now (a `gc` request), as omnishd does hourly: the hostile sessions
   * of a long run pile up a thousand times faster than any user's.
   * @returns the sessions it deleted
   */
  async collect(): Promise<number> {
    const peer = rawPeer(daemonSocket(this.dir));
    try {
      peer.sock.write(Buffer.concat([helloFrame(this.token, 'control'), encodeFrame({ type: 'Request', id: 1, method: 'gc', params: {} })]));
      const [, answer] = await waitUntil(() => (peer.received().length > 1 ? peer.received() : undefined), 'the answer to gc', 30_000);
      if (answer?.type !== 'Response' || !answer.ok) throw new FuzzFailure(`gc answered ${JSON.stringify(answer)}`);
      return (answer.result as { evicted: unknown[] }).evicted.length;
    } finally {
      peer.sock.destroy();
    }
  }

  /** Figures so far (a copy), with the status latencies summed up. */
  snapshot(): Figures {
    const sorted = [...this.probe.latencies].sort((a, b) => a - b);
    const status = {
      asked: sorted.length + this.probe.failures.length, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), maxMs: sorted.at(-1) ?? 0,
      failures: [...this.probe.failures],
    };
    return structuredClone({ ...this.figures, status });
  }

  /**
   * Ends the live session and compares the store with what it sent, lets the daemon settle, takes
   * the memory after, stops the probe and the daemon.
   * @returns the figures (the caller asserts on them: a run may be measured without failing)
   */
  async finish(): Promise<Figures> {
    try {
      this.checkHealth('the run');
      await this.live.end();
      const sent = Buffer.concat(this.live.sent);
      const stored = new SessionStore(sessionsDir(testEnv(this.dir))).list().find((s) => s.id === this.live.id);
      if (!stored) throw new FuzzFailure(`the live session ${this.live.id} is not in the store`);
      const records = [...readStream(join(stored.dir, STREAM_FILE))];
      const output = Buffer.concat(records.flatMap((r) => (r.kind === RecordKind.Output ? [r.data] : [])));
      this.figures.live = { bytes: sent.length, chunks: this.live.sent.length, matches: output.equals(sent), gaps: records.filter((r) => r.kind === RecordKind.Gap).length };
      // Settled: the connections of the run are gone (only the probe's own is left, at times).
      await waitUntil(() => this.probe.connections <= 1, () => `the run's connections to close (${this.probe.connections} open)`, CLOSE_DEADLINE_MS);
      await this.probe.answered(3);
      this.figures.rss.afterBytes = memBytes(this.pid);
      return this.snapshot();
    } finally {
      clearInterval(this.sampler);
      await this.probe.stop();
      await stopDaemons(this.dir);
    }
  }
}
