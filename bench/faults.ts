/**
 * The figures of docs/reliability.md, "Faults": how long a live omnish session takes to be
 * recorded again after omnishd is killed or stopped, what is lost, and how a start-up race ends.
 * test/faults.test.ts asserts the same properties without timing them; this measures them.
 *
 * Each round, in a fresh private directory: a user's omnishd (started before the shell, as a
 * daemon that has been running a while), omnish with bash in a real pty (test/helpers/term.ts),
 * then the fault. Times are from the signal to: a daemon answering `status` again, and the session
 * live on it again (re-registered, recording). This process polls the socket every 5 ms itself
 * (src/control/request.ts, no CLI start-up in the figure). Loss is what the session's stream
 * lacks of what the terminal showed, checked byte for byte, and what its gap records count.
 *
 * Scenarios: `kill-idle` (SIGKILL, the shell at its prompt, everything stored), `kill-stream`
 * (SIGKILL while the shell prints a line every 10 ms: output in flight), `term` (SIGTERM; the
 * client starts the next daemon), `four` (four `omnishd --foreground` at once).
 *
 * Usage: npm run bench:faults [-- --rounds N --only kill-idle,kill-stream,term,four --json FILE]
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from '../src/control/request.js';
import { EXIT_ALREADY_RUNNING } from '../src/common/process.js';
import { readStream, RecordKind, SessionStore, STREAM_FILE } from '../src/store/index.js';
import { daemonPids, OMNISHD, omnishBytes, sessions, startDaemon, stopDaemons, waitDaemon } from '../test/helpers/daemon.js';
import { descendantPids, signalAll } from '../test/helpers/procs.js';
import { PROMPT_READY, ready, runIn, startOmnish, type Term, tempDir, testEnv, waitUntil } from '../test/helpers/term.js';
import { loadAverage, machine } from './procfs.js';

const SCENARIOS = ['kill-idle', 'kill-stream', 'term', 'four'] as const;
type Scenario = (typeof SCENARIOS)[number];

const USAGE = `usage: npm run bench:faults -- [--rounds N] [--only ${SCENARIOS.join(',')}] [--json FILE]\n`;
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, only: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean' } } });
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const rounds = Number(values.rounds);
const only = (values.only?.split(',') ?? [...SCENARIOS]) as Scenario[];
if (!(Number.isInteger(rounds) && rounds >= 1) || only.some((s) => !SCENARIOS.includes(s))) {
  process.stderr.write(USAGE);
  process.exit(2);
}

const IDLE = new RegExp(`PROMPT\\$ ${PROMPT_READY.source}$`);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** One round of a session fault. */
interface Recovery {
  /** Signal → a daemon (a new one) answers `status`, ms. */
  daemonMs: number;
  /** Signal → the session is live on it again, ms. */
  sessionMs: number;
  /** Output bytes the terminal showed that the stream lacks. */
  lostBytes: number;
  /** What the session's 'reconnected to omnishd' gaps count (must equal lostBytes). */
  gapBytes: number;
  /** Gap records of the outage (one expected). */
  gaps: number;
  /** The stream is the terminal's bytes with exactly the counted stretch cut out at the gap. */
  exact: boolean;
}

/** One round of four daemons at once. */
interface Race {
  /** Start → the winner answers `status`, ms. */
  answerMs: number;
  /** Start → the three losers have exited, ms. */
  losersMs: number;
  /** Exit statuses of the losers. */
  statuses: number[];
  serving: number;
}

/** A private directory with this process's environment pointed at it (request() reads process.env). */
function isolate(): { path: string; cleanup: () => Promise<void>; track: (t: Term) => Term } {
  const dir = tempDir('omnish-faults-');
  Object.assign(process.env, testEnv(dir.path));
  const terms: Term[] = [];
  return {
    path: dir.path,
    track: (t) => (terms.push(t), t),
    cleanup: async () => {
      for (const t of terms) {
        const tree = descendantPids(t.pid, '');
        t.kill();
        signalAll(tree, 'SIGKILL');
        await t.waitExit().catch(() => undefined);
      }
      await stopDaemons(dir.path, 'SIGKILL');
      dir.cleanup();
    },
  };
}

/** The live session ids and pid of the daemon answering now, or undefined. */
async function status(): Promise<{ pid: number; live: string[] } | undefined> {
  try {
    const s = await request('status');
    return { pid: s.daemon.pid, live: s.sessions.map((x) => x.id) };
  } catch {
    return undefined;
  }
}

/** Polls every 5 ms from `t0` until a daemon other than `old` answers and session `id` is live on it. */
async function timeRecovery(t0: number, old: number, id: string): Promise<{ daemonMs: number; sessionMs: number }> {
  let daemonMs: number | undefined;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const s = await status();
    if (s && s.pid !== old) {
      daemonMs ??= performance.now() - t0;
      if (s.live.includes(id)) return { daemonMs, sessionMs: performance.now() - t0 };
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('no recovery within 60 s');
}

/** What the stream of `id` holds against what terminal `t` showed. */
function compare(dir: string, id: string, t: Term): Pick<Recovery, 'lostBytes' | 'gapBytes' | 'gaps' | 'exact'> {
  const shown = t.bytes();
  const replayed = omnishBytes(dir, ['replay', id]);
  const stored = new SessionStore(join(dir, 'data', 'sessions')).resolve(id);
  const gaps: Array<{ at: number; lostBytes: number }> = [];
  let at = 0;
  for (const r of readStream(join(stored.dir, STREAM_FILE))) {
    if (r.kind === RecordKind.Output) at += r.data.length;
    if (r.kind === RecordKind.Gap && r.reason === 'reconnected to omnishd') gaps.push({ at, lostBytes: r.lostBytes });
  }
  const gapBytes = gaps.reduce((n, g) => n + g.lostBytes, 0);
  const g = gaps[0];
  const exact = gaps.length === 1 && g !== undefined && replayed.length + g.lostBytes === shown.length &&
    replayed.subarray(0, g.at).equals(shown.subarray(0, g.at)) && replayed.subarray(g.at).equals(shown.subarray(g.at + g.lostBytes));
  return { lostBytes: shown.length - replayed.length, gapBytes, gaps: gaps.length, exact };
}

/** A shell under omnish recording to a daemon that ran before it; returns them once the session is live. */
async function liveSession(dir: ReturnType<typeof isolate>): Promise<{ t: Term; pid: number; id: string }> {
  startDaemon(dir.path);
  const pid = await waitDaemon(dir.path);
  const t = dir.track(startOmnish(dir.path));
  await t.waitFor('PROMPT$ ');
  await ready(t);
  const id = await waitUntil(() => sessions(dir.path)[0]?.id, 'the session', 20_000);
  return { t, pid, id };
}

/** Ends the shell and waits until its session is marked ended. */
async function end(dir: string, t: Term, id: string): Promise<void> {
  t.write('exit\r');
  await t.waitExit(20_000);
  await waitUntil(() => sessions(dir).find((s) => s.id === id && s.endedAt), 'the session to end', 20_000);
}

async function sessionFault(kind: 'kill-idle' | 'kill-stream' | 'term'): Promise<Recovery> {
  const dir = isolate();
  try {
    const { t, pid, id } = await liveSession(dir);
    await runIn(t, 'echo ready');
    await waitUntil(() => IDLE.test(t.text()) && omnishBytes(dir.path, ['replay', id]).equals(t.bytes()), 'everything shown to be stored', 20_000);
    if (kind === 'kill-stream') {
      // ~100 bytes every 10 ms, for 3 s: the kill lands in the middle of it.
      t.write('for i in $(seq 1 300); do printf "line %04d %s\\n" $i ' + "'" + 'x'.repeat(80) + "'" + '; sleep 0.01; done\r');
      await t.waitFor('line 0100');
    }
    const t0 = performance.now();
    process.kill(pid, kind === 'term' ? 'SIGTERM' : 'SIGKILL');
    const times = await timeRecovery(t0, pid, id);
    if (kind === 'kill-stream') await t.waitFor(/line 0300[^]*PROMPT\$ /, { timeoutMs: 30_000 });
    await runIn(t, 'echo after');
    await end(dir.path, t, id);
    return { ...times, ...compare(dir.path, id, t) };
  } finally {
    await dir.cleanup();
  }
}

async function fourAtOnce(): Promise<Race> {
  const dir = isolate();
  try {
    const t0 = performance.now();
    const exits = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, [OMNISHD, '--foreground'], { env: testEnv(dir.path), stdio: 'ignore', detached: true });
      child.unref();
      return new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    });
    let answerMs: number | undefined;
    while (answerMs === undefined) {
      if (await status()) answerMs = performance.now() - t0;
      else await new Promise((r) => setTimeout(r, 5));
    }
    const statuses: number[] = [];
    let losersMs = 0;
    await Promise.race([
      new Promise((r) => setTimeout(r, 30_000)),
      new Promise<void>((resolve) => exits.forEach((e) => void e.then((code) => {
        statuses.push(code);
        losersMs = performance.now() - t0;
        if (statuses.length === 3) resolve();
      }))),
    ]);
    // A copy: the winner's own exit (killed by the cleanup) must not join the losers'.
    return { answerMs, losersMs, statuses: [...statuses], serving: daemonPids(dir.path).length };
  } finally {
    await dir.cleanup();
  }
}

const fmt = (ms: number): string => ms.toFixed(0);
function spread(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${fmt(s[Math.floor((s.length - 1) / 2)]!)} ms, min ${fmt(s[0]!)}, max ${fmt(s.at(-1)!)}`;
}

const results: Record<string, Array<Recovery | Race>> = {};
const load = [loadAverage()];
for (const scenario of only) {
  const list: Array<Recovery | Race> = (results[scenario] = []);
  for (let i = 0; i < rounds; i++) {
    const r = scenario === 'four' ? await fourAtOnce() : await sessionFault(scenario);
    list.push(r);
    log(`${scenario} ${i + 1}/${rounds}: ${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}`);
  }
  load.push(loadAverage());
}

const out: string[] = [];
for (const [scenario, list] of Object.entries(results)) {
  if (scenario === 'four') {
    const races = list as Race[];
    const fair = races.every((r) => r.serving === 1 && r.statuses.length === 3 && r.statuses.every((s) => s === EXIT_ALREADY_RUNNING));
    out.push(`four: winner answers ${spread(races.map((r) => r.answerMs))}; losers all exited ${spread(races.map((r) => r.losersMs))}; ` +
      `one serving and three exit ${EXIT_ALREADY_RUNNING} in ${races.filter((r) => r.serving === 1).length}/${races.length} rounds${fair ? '' : ' (NOT ALL)'}`);
    continue;
  }
  const recs = list as Recovery[];
  const lost = recs.map((r) => r.lostBytes);
  out.push(`${scenario}: daemon back ${spread(recs.map((r) => r.daemonMs))}; session recording again ${spread(recs.map((r) => r.sessionMs))}; ` +
    `bytes lost ${lost.join(', ')} (gaps count ${recs.map((r) => r.gapBytes).join(', ')}); one gap, exact cut: ${recs.filter((r) => r.exact).length}/${recs.length}`);
}
const m = machine();
out.push(`machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, load average ${load.map((l) => l.toFixed(1)).join(' → ')}; relay ${process.env.OMNISH_RELAY ?? 'default'}`);
process.stdout.write(`${out.join('\n')}\n`);
if (values.json) writeFileSync(values.json, `${JSON.stringify({ results, machine: m, load }, null, 2)}\n`);
