/**
 * Start-up: the wall time of plain CLI invocations (`omnish --version`, `--help`, `sessions`,
 * `status`), from spawn until exit, with no daemon and with one running, next to `node -e 0` (what
 * Node itself costs on this machine, the floor). The cases alternate within each round, in rotated
 * order; each case runs once unmeasured first, so the figures are those of a user who has run omnish
 * before (files in the page cache, Node's compile cache filled where Node has one).
 * docs/benchmarks.md "Start-up" says what the figures mean.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stopDaemons } from '../test/helpers/daemon.js';
import { testEnv } from '../test/helpers/env.js';
import { SessionStore } from '../src/store/index.js';
import { isolation } from './contenders.js';
import { BenchError } from './errors.js';
import { startDaemon } from './measure.js';
import { busyFraction, loadAverage } from './procfs.js';
import { fmt, fmtSpread, type Spread, spread, table } from './stats.js';

/** One invocation measured. */
interface Case {
  /** As reported: the command line after `omnish`, or `node -e 0`. */
  name: string;
  /** Arguments after the node binary. */
  argv: (omnish: string) => string[];
  /** The exit status it must end with (anything else is a broken run, not a figure). */
  status: number;
}

const node0: Case = { name: 'node -e 0', argv: () => ['-e', '0'], status: 0 };
const cli = (args: string[], status = 0): Case => ({ name: `omnish ${args.join(' ')}`, argv: (omnish) => [omnish, ...args], status });

/** Without a daemon: `status` says so and exits 3. */
const WITHOUT_DAEMON: Case[] = [node0, cli(['--version']), cli(['--help']), cli(['sessions']), cli(['status'], 3)];
const WITH_DAEMON: Case[] = [node0, cli(['--version']), cli(['sessions']), cli(['status'])];

/** Sessions in the store `omnish sessions` lists: enough for a real table, each with a command. */
const SEEDED_SESSIONS = 20;

/** The figures of the start-up part. */
export interface StartupResult {
  node: string;
  omnish: string;
  runs: number;
  busyBefore: number;
  loadBefore: number;
  loadAfter: number;
  /** Wall time of each case, ms, with no daemon running and with one. */
  withoutDaemon: Record<string, { ms: Spread; samples: number[] }>;
  withDaemon: Record<string, { ms: Spread; samples: number[] }>;
}

/** Fills the store of `data` with ended sessions, each with one recorded command. */
function seed(data: string): void {
  const store = new SessionStore(join(data, 'sessions'));
  for (let i = 0; i < SEEDED_SESSIONS; i++) {
    const startedAt = new Date(Date.UTC(2026, 10, 1, 9, i)).toISOString();
    const h = store.create({ id: `${(0xbe0000 + i).toString(16)}000000`, hostname: 'bench', pid: 2, clientPid: 1, tty: '/dev/pts/1',
      shell: '/bin/bash', cwd: '/tmp', term: 'xterm-256color', cols: 120, rows: 40, startedAt });
    h.stream.output(0, Buffer.from(`$ make test\r\nok ${i}\r\n`));
    h.appendEvent({ type: 'command', seq: 1, command: 'make test', cwd: '/tmp', startedAtUs: 10, endedAtUs: 20_000, exitCode: 0,
      outputStart: 13, outputEnd: 20, altScreen: false });
    h.end(0, null, 'exit', 30_000);
  }
}

/** Wall time of one run of `c`, ms. @throws BenchError when it ends with another status than the case's */
function timeOnce(c: Case, omnish: string, env: Record<string, string>, cwd: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.argv(omnish), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== c.status) {
    throw new BenchError(`${c.name} exited with ${r.status ?? r.signal} (expected ${c.status}): ${String(r.stderr).trim().split('\n')[0]}`);
  }
  return ms;
}

/** Runs every case of `cases` once to warm up, then `runs` rounds of all of them in rotated order. */
function measure(cases: Case[], runs: number, omnish: string, env: Record<string, string>, cwd: string): StartupResult['withDaemon'] {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (const c of cases) timeOnce(c, omnish, env, cwd);
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(i + k) % cases.length]!;
      samples.get(c.name)!.push(timeOnce(c, omnish, env, cwd));
    }
  }
  return Object.fromEntries([...samples].map(([name, xs]) => [name, { ms: spread(xs), samples: xs }]));
}

/**
 * Measures the start-up of the launcher `omnish` (its omnishd.js beside it is the daemon), `runs`
 * times per case, in a directory of its own under `dir` (HOME, store, socket, compile cache).
 * @throws BenchError for a run that fails, or a daemon that does not come up
 */
export async function startupBench(omnish: string, runs: number, dir: string, log: (msg: string) => void): Promise<StartupResult> {
  const home = join(dir, 'startup');
  const iso = isolation(home);
  const env = testEnv(home);
  mkdirSync(dirname(iso.socket), { mode: 0o700, recursive: true });
  seed(iso.data);
  const busyBefore = await busyFraction();
  const loadBefore = loadAverage();
  log(`start-up: ${runs} runs of each case, without a daemon`);
  const withoutDaemon = measure(WITHOUT_DAEMON, runs, omnish, env, home);
  await startDaemon(join(dirname(omnish), 'omnishd.js'), env, iso);
  try {
    log('start-up: with omnishd running');
    const withDaemon = measure(WITH_DAEMON, runs, omnish, env, home);
    return { node: process.version, omnish, runs, busyBefore, loadBefore, loadAfter: loadAverage(), withoutDaemon, withDaemon };
  } finally {
    await stopDaemons(home);
  }
}

/** The start-up part of the report. */
export function renderStartup(r: StartupResult): string {
  const ms = (x: number): string => fmt(x, 0);
  const floor = (part: StartupResult['withDaemon']): number => part[node0.name]?.ms.median ?? NaN;
  const rows = (label: string, part: StartupResult['withDaemon']): string[][] =>
    Object.entries(part).map(([name, f]) => [`${name} (${label})`, fmtSpread(f.ms, ms), name === node0.name ? '-' : ms(f.ms.median - floor(part))]);
  return [
    '',
    `Start-up: wall time from spawn to exit, ms, "median (min–max)" over ${r.runs} runs per case (cases alternating, one unmeasured run first)`,
    `Node ${r.node}; omnish measured: ${r.omnish}; other load: ${fmt(r.busyBefore * 100, 0)}% CPU busy before, load average ` +
      `${fmt(r.loadBefore, 2)} before, ${fmt(r.loadAfter, 2)} after` + (r.busyBefore > 0.1 ? ' — the machine was busy: expect noise' : ''),
    table([
      ['invocation', 'ms', 'over node -e 0'],
      ...rows('no daemon', r.withoutDaemon),
      ...rows('omnishd running', r.withDaemon),
    ]),
    '',
  ].join('\n');
}
