/**
 * Figures from the rounds: every ratio is taken within a round (the contenders ran back to back) and
 * then summarised as the median and range over rounds, which a load that drifts disturbs less than
 * a ratio of two medians.
 */
import type { ContenderName } from './contenders.js';
import { echoQuantiles, type ThroughputRun } from './measure.js';
import type { Machine } from './procfs.js';
import { fmt, fmtRatio, fmtSpread, median, ratio, spread, type Spread, table } from './stats.js';
import type { TextFile } from './textfile.js';

/** Everything measured in one round. */
export interface Round {
  throughput: Partial<Record<ContenderName, ThroughputRun>>;
  /** Echo round trips, µs. */
  echo: Partial<Record<ContenderName, number[]>>;
  /** Times to first prompt, ms. */
  startsMs: Partial<Record<ContenderName, number[]>>;
}

/** A throughput run that delivered less than the output (its tail lost). */
export interface Shortfall {
  name: ContenderName;
  round: number;
  delivered: number;
  expected: number;
  markerSeen: boolean;
}

/** The inputs of the report besides the rounds. */
export interface Setting {
  date: string;
  machine: Machine;
  busyBefore: number;
  loadBefore: number;
  loadAfter: number;
  names: ContenderName[];
  file: TextFile;
  /** Bytes a complete throughput run delivers at least: the file, a CR per LF, the end marker line. */
  expectedBytes: number;
  rounds: number;
  keys: number;
  starts: number;
  omnish: string;
  cols: number;
  rows: number;
  /** Stored bytes per output byte, or null when omnish was not measured or recorded nothing. */
  stored: { stored: number; output: number; sessions: number; settled: boolean } | null;
  seconds: number;
}

type PerRound = (r: Round) => number;

/** Spread over rounds of a per-round figure. */
function over(rounds: readonly Round[], f: PerRound): Spread {
  return spread(rounds.map(f));
}

const tp = (n: ContenderName, f: (t: ThroughputRun) => number): PerRound => (r) => {
  const t = r.throughput[n];
  return t ? f(t) : NaN;
};
const tpRatio = (n: ContenderName, base: ContenderName): PerRound => (r) =>
  ratio(r.throughput[n]?.seconds ?? NaN, r.throughput[base]?.seconds ?? NaN);
const echoQ = (n: ContenderName, q: 'p50' | 'p99'): PerRound => (r) => (r.echo[n] ? echoQuantiles(r.echo[n])[q] : NaN);
const echoRatio = (n: ContenderName, base: ContenderName, q: 'p50' | 'p99'): PerRound => (r) => ratio(echoQ(n, q)(r), echoQ(base, q)(r));
const startMs = (n: ContenderName): PerRound => (r) => median(r.startsMs[n] ?? []);
const startMinus = (n: ContenderName, base: ContenderName): PerRound => (r) => startMs(n)(r) - startMs(base)(r);

/** Runs that lost output: fewer bytes than the file needs, or no end marker before EOF. */
export function shortfalls(rounds: readonly Round[], names: readonly ContenderName[], expected: number): Shortfall[] {
  const out: Shortfall[] = [];
  rounds.forEach((r, i) => {
    for (const name of names) {
      const t = r.throughput[name];
      if (t && (t.delivered < expected || !t.markerSeen)) out.push({ name, round: i + 1, delivered: t.delivered, expected, markerSeen: t.markerSeen });
    }
  });
  return out;
}

/** The figures of the report, as numbers: what --json writes besides the raw rounds. */
export function summarise(rounds: readonly Round[], s: Setting): Record<string, unknown> {
  const per = Object.fromEntries(s.names.map((n) => [n, {
    throughput: {
      seconds: over(rounds, tp(n, (t) => t.seconds)),
      markerSeconds: over(rounds, tp(n, (t) => t.markerSeconds)),
      mbPerSec: over(rounds, tp(n, (t) => t.delivered / t.seconds / 1e6)),
      vsDirect: over(rounds, tpRatio(n, 'direct')),
      vsScript: over(rounds, tpRatio(n, 'script')),
      relayCpuSeconds: over(rounds, tp(n, (t) => t.relayCpu)),
      treeCpuSeconds: over(rounds, tp(n, (t) => t.treeCpu)),
      daemonCpuSeconds: over(rounds, tp(n, (t) => t.daemonCpu)),
      readerCpuSeconds: over(rounds, tp(n, (t) => t.readerCpu)),
      deliveredBytes: over(rounds, tp(n, (t) => t.delivered)),
    },
    echo: {
      p50Us: over(rounds, echoQ(n, 'p50')), p99Us: over(rounds, echoQ(n, 'p99')),
      p50VsDirect: over(rounds, echoRatio(n, 'direct', 'p50')), p99VsDirect: over(rounds, echoRatio(n, 'direct', 'p99')),
      p50VsScript: over(rounds, echoRatio(n, 'script', 'p50')), p99VsScript: over(rounds, echoRatio(n, 'script', 'p99')),
      pooled: echoQuantiles(rounds.flatMap((r) => r.echo[n] ?? [])),
    },
    firstPrompt: { ms: over(rounds, startMs(n)), minusDirectMs: over(rounds, startMinus(n, 'direct')) },
  }]));
  return { per, shortfalls: shortfalls(rounds, s.names, s.expectedBytes) };
}

const sec = (x: number): string => fmt(x, 3);
const cpu = (x: number): string => fmt(x, 2);
const us = (x: number): string => fmt(x, 0);

/** The report printed on stdout. */
export function render(rounds: readonly Round[], s: Setting): string {
  const names = s.names;
  const has = (n: ContenderName): boolean => names.includes(n);
  const cell = (f: PerRound, show: (x: number) => string): string => fmtSpread(over(rounds, f), show);
  const out: string[] = [''];
  out.push(`omnish benchmark, ${s.date}`);
  out.push(`machine: ${s.machine.cpu}, ${s.machine.cores} cores, Node ${s.machine.node}, Linux ${s.machine.kernel}, ` +
    `bash ${s.machine.bash}, ${s.machine.script}, ${s.machine.cc}`);
  out.push(`other load: ${fmt(s.busyBefore * 100, 0)}% CPU busy in the second before the run; load average ${fmt(s.loadBefore, 2)} ` +
    `before, ${fmt(s.loadAfter, 2)} after (includes this run)` + (s.busyBefore > 0.1 ? ' — the machine was busy: expect noise' : ''));
  out.push(`omnish measured: ${s.omnish}`);
  out.push(`settings: ${s.rounds} rounds (contenders alternating, order rotated); ${fmt(s.file.bytes / 1e6)} MB file; ` +
    `${s.keys} keystrokes and ${s.starts} starts per contender per round; pty ${s.cols}x${s.rows}; terminal: bench/term.c`);
  out.push('Figures are "median (min–max)" over rounds; every ratio is taken within a round.');
  out.push('');
  out.push('1. Output throughput: `cat FILE; echo D:5; exit`, from the write of the line until EOF on the pty');
  out.push(table([
    ['contender', 's to EOF', 's to marker', 'MB/s', 'time vs direct', 'time vs script', 'relay CPU s', 'daemon CPU s', 'reader CPU s'],
    ...names.map((n) => [n, cell(tp(n, (t) => t.seconds), sec), cell(tp(n, (t) => t.markerSeconds), sec),
      cell(tp(n, (t) => t.delivered / t.seconds / 1e6), (x) => fmt(x)),
      has('direct') ? cell(tpRatio(n, 'direct'), fmtRatio) : 'n/a', has('script') ? cell(tpRatio(n, 'script'), fmtRatio) : 'n/a',
      cell(tp(n, (t) => t.relayCpu), cpu), n.startsWith('omnish') ? cell(tp(n, (t) => t.daemonCpu), cpu) : '-',
      cell(tp(n, (t) => t.readerCpu), cpu)]),
  ]));
  out.push('');
  out.push(`   bytes delivered after the command line (expected at least ${s.expectedBytes}: the file, a CR per LF, the marker line)`);
  out.push(table([
    ['contender', ...rounds.map((_, i) => `round ${i + 1}`)],
    ...names.map((n) => [n, ...rounds.map((r) => {
      const t = r.throughput[n];
      if (!t) return '-';
      const short = s.expectedBytes - t.delivered;
      return `${t.delivered}${short > 0 ? ` SHORT ${short}` : ''}${t.markerSeen ? '' : ' no marker'}`;
    })]),
  ]));
  const lost = shortfalls(rounds, names, s.expectedBytes);
  out.push(lost.length === 0
    ? '   every run delivered all of its output'
    : `   WARNING: ${lost.length} run(s) lost the tail of the output: ${[...new Set(lost.map((l) => l.name))].join(', ')}`);
  out.push('');
  out.push('2. Keystroke echo round trip at an idle prompt (µs; per round p50 and p99, then over rounds)');
  out.push(table([
    ['contender', 'p50', 'p99', 'pooled p50/p99', 'p50 vs direct', 'p99 vs direct', 'p50 vs script', 'p99 vs script'],
    ...names.map((n) => {
      const pooled = echoQuantiles(rounds.flatMap((r) => r.echo[n] ?? []));
      return [n, cell(echoQ(n, 'p50'), us), cell(echoQ(n, 'p99'), us), `${us(pooled.p50)}/${us(pooled.p99)}`,
        cell(echoRatio(n, 'direct', 'p50'), fmtRatio), cell(echoRatio(n, 'direct', 'p99'), fmtRatio),
        cell(echoRatio(n, 'script', 'p50'), fmtRatio), cell(echoRatio(n, 'script', 'p99'), fmtRatio)];
    }),
  ]));
  out.push('');
  out.push('3. Time to first prompt, from spawn (ms; median of each round\'s starts, then over rounds)');
  out.push(table([
    ['contender', 'ms', 'minus direct'],
    ...names.map((n) => [n, cell(startMs(n), (x) => fmt(x)), has('direct') ? cell(startMinus(n, 'direct'), (x) => fmt(x)) : 'n/a']),
  ]));
  out.push('');
  const st = s.stored;
  const storedText = !has('omnish') ? 'n/a (omnish not measured)' : st === null ? 'n/a (nothing recorded)'
    : `${fmt(st.stored / st.output, 3)} (${fmt(st.stored / 1e6)} MB stored in ${st.sessions} sessions for ` +
      `${fmt(st.output / 1e6)} MB delivered to the terminal${st.settled ? '' : '; still growing at the deadline'})`;
  out.push(`4. Stored bytes per output byte (omnish, every session of the run): ${storedText}`);
  out.push('');
  out.push(...targets(rounds, names));
  out.push(`total time ${fmt(s.seconds)} s`);
  return `${out.join('\n')}\n`;
}

/** The targets of issue 12 (the native relay), PASS or MISS beside each. CPU targets are per 50 MB (the default --mb). */
function targets(rounds: readonly Round[], names: readonly ContenderName[]): string[] {
  const rows: string[][] = [];
  const med = (f: PerRound): number => median(rounds.map(f));
  const row = (target: string, shown: string, pass: boolean): void => void rows.push([target, shown, pass ? 'PASS' : 'MISS']);
  if (names.includes('omnish') && names.includes('script')) {
    const x = med(tpRatio('omnish', 'script'));
    row('throughput time ≤ 1.2× script(1)', fmtRatio(x), x <= 1.2);
    const p50 = med(echoRatio('omnish', 'script', 'p50'));
    row('echo p50 ≤ 1.0× script', fmtRatio(p50), p50 <= 1.0);
    const p99 = med(echoRatio('omnish', 'script', 'p99'));
    row('echo p99 ≤ 1.5× script', fmtRatio(p99), p99 <= 1.5);
  }
  if (names.includes('omnish')) {
    const relay = med(tp('omnish', (t) => t.relayCpu));
    row('client CPU ≤ 0.4 s per 50 MB', `${fmt(relay, 2)} s`, relay <= 0.4);
    const daemon = med(tp('omnish', (t) => t.daemonCpu));
    row('omnishd CPU ≤ 0.15 s per 50 MB', `${fmt(daemon, 2)} s`, daemon <= 0.15);
  }
  if (names.includes('omnish') && names.includes('direct')) {
    const d = med(startMinus('omnish', 'direct'));
    row('first prompt ≤ direct + 50 ms', `+${fmt(d)} ms`, d <= 50);
  }
  if (rows.length === 0) return [];
  return ['Targets', table([['target', 'omnish', 'result'], ...rows]), ''];
}
