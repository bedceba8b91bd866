#!/usr/bin/env node
/**
 * omnish benchmark: what the relay costs compared with the bare shell and with script(1).
 *
 * This program plays the user's terminal: it spawns each contender in a node-pty pty (binary,
 * `encoding: null`), types into it and drains its output as fast as it can. Contenders, measured in
 * the same run and with the same environment:
 *   - direct: bash --norc --noprofile straight in the pty;
 *   - script: util-linux `script -q -c 'bash --norc --noprofile' /dev/null` (a C pty relay);
 *   - omnish: `node bin/omnish.js --norc --noprofile`, isolated (config, data and socket in a temp dir).
 *
 * Figures: output throughput (`cat` of a large text file), keystroke echo round trip at an idle
 * prompt, time to first prompt, and stored bytes per output byte (once recording is active).
 * See docs/benchmarks.md for what each figure means.
 *
 * Usage: npm run bench [-- --runs N] [-- --json FILE]
 *        node bench/run.js [--runs N] [--json FILE] [--mb MB] [--keys N] [--starts N] [--only a,b]
 *                          [--omnish PATH/bin/omnish.js]   (measure another build, e.g. an older checkout)
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodePty from '@lydell/node-pty';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OMNISH = join(ROOT, 'bin', 'omnish.js');
const PROMPT = 'BENCHPROMPT$ ';
const COLS = 120;
const ROWS = 40;
/** How much of the end of each chunk a marker search looks at (plus a carry-over across chunks). */
const SEARCH_TAIL = 512;

/** Targets from the issue, printed beside the results. */
const TARGETS = {
  throughputVsDirect: 1.25,
  scriptThroughputNote: 1.28,
  echoP99VsScript: 2,
  firstPromptExtraMs: 60,
};

/**
 * @typedef {object} Options
 * @property {number} runs     throughput repetitions per contender (median reported)
 * @property {string|undefined} json  file to write the results to as JSON
 * @property {number} mb       size of the text file for the throughput test, in MB (10^6 bytes)
 * @property {number} keys     measured keystrokes per contender
 * @property {number} starts   starts per contender for time to first prompt
 * @property {string[]} only   contenders to run (default all)
 * @property {string} omnish   launcher to measure as omnish (default this checkout's bin/omnish.js)
 */

/**
 * @typedef {object} Contender
 * @property {string} name
 * @property {string} file
 * @property {string[]} args
 */

/**
 * @typedef {object} Hit
 * @property {bigint} at        process.hrtime.bigint() when the chunk holding the needle arrived
 * @property {number} received  bytes received by then (since spawn)
 */

/** @returns {Options} */
function parseArgs(argv) {
  /** @type {Options} */
  const opts = { runs: 3, json: undefined, mb: 50, keys: 300, starts: 10, only: ['direct', 'script', 'omnish'],
    omnish: OMNISH };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    const count = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`${arg} needs a positive integer`);
      return n;
    };
    if (arg === '--runs') opts.runs = count();
    else if (arg === '--json') opts.json = resolve(value());
    else if (arg === '--mb') opts.mb = count();
    else if (arg === '--keys') opts.keys = count();
    else if (arg === '--starts') opts.starts = count();
    else if (arg === '--only') opts.only = value().split(',');
    else if (arg === '--omnish') opts.omnish = resolve(value());
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write('usage: node bench/run.js [--runs N] [--json FILE] [--mb MB] [--keys N] [--starts N] [--only direct,script,omnish] [--omnish bin/omnish.js]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------
// A terminal that drains its pty as fast as it can and watches for markers cheaply.

/** Every pty we spawned and have not seen exit: killed on any way out. */
const live = new Set();

class Tty {
  /**
   * @param {Contender} contender
   * @param {Record<string, string>} env
   * @param {string} cwd
   */
  constructor(contender, env, cwd) {
    this.name = contender.name;
    this.received = 0;
    /** @type {{ needle: Buffer, carry: Buffer, resolve: (hit: Hit) => void } | null} */
    this.waiter = null;
    /** @type {Buffer} the end of the last chunk, for error messages */
    this.last = Buffer.alloc(0);
    this.lastDataAt = process.hrtime.bigint();
    this.exitStatus = undefined;
    this.spawnedAt = process.hrtime.bigint();
    this.pty = nodePty.spawn(contender.file, contender.args, {
      name: 'xterm-256color',
      cols: COLS,
      rows: ROWS,
      cwd,
      env,
      encoding: null,
      handleFlowControl: false,
    });
    live.add(this);
    this.pty.onData((data) => this.onData(/** @type {Buffer} */ (/** @type {unknown} */ (data))));
    this.exited = new Promise((res) => {
      this.pty.onExit((status) => {
        this.exitStatus = status;
        live.delete(this);
        res(status);
      });
    });
  }

  /** The hot path: count, and search only the tail of the chunk plus a carry-over from the previous one. */
  onData(buf) {
    const now = process.hrtime.bigint();
    this.received += buf.length;
    this.lastDataAt = now;
    this.last = buf;
    const w = this.waiter;
    if (w === null) return;
    const n = w.needle.length;
    let hit = buf.indexOf(w.needle, Math.max(0, buf.length - SEARCH_TAIL)) !== -1;
    if (!hit && w.carry.length > 0) {
      hit = Buffer.concat([w.carry, buf.subarray(0, n - 1)]).indexOf(w.needle) !== -1;
    }
    if (hit) {
      this.waiter = null;
      w.resolve({ at: now, received: this.received });
      return;
    }
    w.carry = Buffer.from(buf.subarray(Math.max(0, buf.length - (n - 1))));
  }

  /**
   * Arms a wait for `needle` in output that arrives from now on. Arm before writing the input that
   * causes it.
   * @param {string} needle
   * @param {number} timeoutMs
   * @returns {Promise<Hit>}
   */
  expect(needle, timeoutMs = 30_000) {
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        rej(new Error(`${this.name}: no ${JSON.stringify(needle)} within ${timeoutMs} ms; ` +
          `last output ${JSON.stringify(this.last.subarray(-200).toString('latin1'))}`));
      }, timeoutMs);
      this.waiter = {
        needle: Buffer.from(needle, 'latin1'),
        carry: Buffer.alloc(0),
        resolve: (hit) => {
          clearTimeout(timer);
          res(hit);
        },
      };
    });
  }

  /** Writes to the shell's input. */
  write(data) {
    this.pty.write(data);
  }

  /** Resolves once no output has arrived for `quietMs` (or after `maxMs` in any case). */
  async settle(quietMs = 30, maxMs = 2000) {
    const start = process.hrtime.bigint();
    const quiet = BigInt(quietMs) * 1_000_000n;
    const max = BigInt(maxMs) * 1_000_000n;
    for (;;) {
      const now = process.hrtime.bigint();
      if (now - this.lastDataAt >= quiet || now - start >= max) return;
      await sleep(5);
    }
  }

  /** Types a line whose marker is computed by the shell (so the echo of the line cannot match) and waits for it. */
  async ready(timeoutMs = 30_000) {
    const hit = this.expect('R:2', timeoutMs);
    this.write('echo R:$((1+1))\r');
    await hit;
    await this.settle();
  }

  /** Ends the shell politely (`exit`), then by force. */
  async close() {
    if (this.exitStatus) return;
    try {
      this.write('\x15exit\r');
    } catch {
      // the pty is already gone
    }
    if (await within(this.exited, 5000)) return;
    this.kill();
    await within(this.exited, 2000);
  }

  kill() {
    try {
      this.pty.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** @returns {Promise<void>} */
function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether `promise` settles within `ms`. */
async function within(promise, ms) {
  let timer;
  const timeout = new Promise((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  const done = await Promise.race([promise.then(() => true), timeout]);
  clearTimeout(timer);
  return done;
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting.

/** @param {number[]} xs */
function median(xs) {
  return quantile(xs, 0.5);
}

/** Linear-interpolated quantile of `xs` (q in [0, 1]). */
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

function fmt(x, digits = 1) {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN;
}

function fmtRatio(x) {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a';
}

/** Renders rows as an aligned text table; the first row is the header. */
function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const line = (r) => r.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// Setup: machine facts, the text file, the contenders.

function machine() {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux
  }
  let bash = 'unknown';
  let script = 'unknown';
  try {
    bash = execFileSync('bash', ['-c', 'echo $BASH_VERSION'], { encoding: 'utf8' }).trim();
    script = execFileSync('script', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as unknown
  }
  return { cpu, cores: cpus().length, node: process.version, kernel: release(), bash, script };
}

/** A small deterministic PRNG (mulberry32) so every run cats the same text. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes `bytes` of varied printable text: lines of 1 to 160 characters made of words, digits and
 * punctuation, never a ':' (so the end marker `D:5` cannot occur in the file).
 */
function writeTextFile(path, bytes) {
  const rand = prng(0x5eed);
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const punct = ',.;!?-_=+()[]{}<>/\\|@#%^&*~\'"`$';
  const words = [];
  for (let i = 0; i < 4096; i++) {
    const len = 1 + Math.floor(rand() * 12);
    let w = '';
    for (let j = 0; j < len; j++) w += alphabet[Math.floor(rand() * alphabet.length)];
    if (rand() < 0.15) w += punct[Math.floor(rand() * punct.length)];
    words.push(w);
  }
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    while (written < bytes) {
      const lines = [];
      let size = 0;
      while (size < 1 << 20) {
        const target = 1 + Math.floor(rand() * rand() * 160);
        let line = rand() < 0.1 ? '    ' : '';
        while (line.length < target) line += (line.length > 0 && !line.endsWith(' ') ? ' ' : '') + words[Math.floor(rand() * words.length)];
        lines.push(line);
        size += line.length + 1;
      }
      let chunk = Buffer.from(lines.join('\n') + '\n', 'latin1');
      if (written + chunk.length > bytes) {
        chunk = chunk.subarray(0, bytes - written);
        chunk[chunk.length - 1] = 0x0a;
      }
      writeSync(fd, chunk);
      written += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/** @returns {Contender[]} */
function contenders(only, omnish) {
  const all = [
    { name: 'direct', file: '/bin/bash', args: ['--norc', '--noprofile'] },
    // script(1) runs its command with `$SHELL -c`, and a non-interactive bash drops PS1 from the
    // environment, so the command puts it back before the interactive bash starts.
    { name: 'script', file: 'script', args: ['-q', '-c', `PS1='${PROMPT}' exec bash --norc --noprofile`, '/dev/null'] },
    { name: 'omnish', file: process.execPath, args: [omnish, '--norc', '--noprofile'] },
  ];
  for (const name of only) {
    if (!all.some((c) => c.name === name)) throw new Error(`unknown contender ${name}`);
  }
  return all.filter((c) => only.includes(c.name));
}

/**
 * The environment every contender gets: the same prompt, locale and terminal type; omnish's config,
 * data and socket isolated under `dir` (ignored by the others).
 */
function benchEnv(dir, data, socket) {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: dir,
    SHELL: '/bin/bash',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    PS1: PROMPT,
    HISTFILE: '/dev/null',
    OMNISH_SHELL: '/bin/bash',
    OMNISH_CONFIG: join(dir, 'config.toml'),
    OMNISH_DATA_DIR: data,
    OMNISH_SOCKET: socket,
  };
}

// ---------------------------------------------------------------------------------------------
// The measurements.

/**
 * One throughput run: a fresh shell, `cat FILE; echo D:$((2+3))`, timed from the write until `D:5`.
 * `relayCpu` is the CPU time of the process in the pty during the run (omnish: the Node relay;
 * script: script(1); direct: bash itself), `daemonCpu` that of omnishd while the output was
 * relayed (NaN without a daemon; it may still be storing after the marker), `terminalCpu` that of
 * this program (the terminal).
 * @returns {Promise<{ seconds: number, bytes: number, relayCpu: number, daemonCpu: number, terminalCpu: number, totalReceived: number }>}
 */
async function throughputRun(contender, env, dir, file) {
  const tty = new Tty(contender, env, dir);
  try {
    await tty.ready();
    const before = tty.received;
    const done = tty.expect('D:5', 120_000);
    const relayCpu0 = cpuSeconds(tty.pty.pid);
    const daemonCpu0 = cpuByPid(daemonPids(env.OMNISH_SOCKET));
    const selfCpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    tty.write(`cat ${file}; echo D:$((2+3))\r`);
    const hit = await done;
    const seconds = Number(hit.at - t0) / 1e9;
    const relayCpu = cpuSeconds(tty.pty.pid) - relayCpu0;
    const self = process.cpuUsage(selfCpu0);
    // A daemon that started during the run counts from zero.
    const daemons = daemonPids(env.OMNISH_SOCKET);
    const daemonCpu = daemons.length === 0 ? NaN : daemons.reduce((sum, pid) => sum + cpuSeconds(pid) - (daemonCpu0.get(pid) ?? 0), 0);
    const bytes = hit.received - before;
    await tty.settle();
    return { seconds, bytes, relayCpu, daemonCpu, terminalCpu: (self.user + self.system) / 1e6, totalReceived: tty.received };
  } finally {
    await tty.close();
  }
}

/**
 * Keystroke echo: at an idle prompt, one printable character at a time, timed until it echoes.
 * Ctrl-U clears the line every 50 characters. The first 10 keystrokes warm up and are not counted.
 * @returns {Promise<number[]>} round trips in µs
 */
async function echoRun(contender, env, dir, keys) {
  const tty = new Tty(contender, env, dir);
  const samples = [];
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const warmup = 10;
  try {
    await tty.ready();
    for (let i = 0; i < warmup + keys; i++) {
      if (i % 50 === 0 && i > 0) {
        tty.write('\x15');
        await tty.settle(20, 1000);
      }
      const ch = letters[i % letters.length];
      const echoed = tty.expect(ch, 5000);
      const t0 = process.hrtime.bigint();
      tty.write(ch);
      const hit = await echoed;
      if (i >= warmup) samples.push(Number(hit.at - t0) / 1000);
      // Let both sides go idle again, as between a person's keystrokes.
      await tty.settle(3, 200);
    }
    tty.write('\x15');
    await tty.settle(20, 1000);
  } finally {
    await tty.close();
  }
  return samples;
}

/**
 * Time to first prompt: from spawn until the prompt text appears.
 * @returns {Promise<number>} ms
 */
async function startRun(contender, env, dir) {
  const t0 = process.hrtime.bigint();
  const tty = new Tty(contender, env, dir);
  try {
    const hit = await tty.expect(PROMPT, 15_000);
    return Number(hit.at - t0) / 1e6;
  } finally {
    await tty.settle(20, 500);
    await tty.close();
  }
}

/**
 * CPU time (user + system, s) used so far by process `pid` itself, from /proc/PID/stat (clock ticks
 * of 1/100 s); NaN when unreadable.
 */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Total and idle CPU ticks of the whole machine so far, from /proc/stat. */
function cpuTicks() {
  try {
    const f = readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { total: f.reduce((a, b) => a + b, 0), idle: f[3] + (f[4] ?? 0) };
  } catch {
    return { total: NaN, idle: NaN };
  }
}

/** Fraction of the machine's CPU that others used during `ms` while we sat still: was it quiet? */
async function busyFraction(ms = 1000) {
  const a = cpuTicks();
  await sleep(ms);
  const b = cpuTicks();
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

/** The 1-minute load average, a hint of how busy the machine was. */
function loadAverage() {
  try {
    return Number(readFileSync('/proc/loadavg', 'latin1').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/** Sum of the sizes of all files under `dir` (recursively). */
function treeSize(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += treeSize(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

/** Session directories of a data dir that hold a stream.bin. */
function sessionDirs(data) {
  const sessions = join(data, 'sessions');
  if (!existsSync(sessions)) return [];
  return readdirSync(sessions, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(sessions, e.name, 'stream.bin')))
    .map((e) => join(sessions, e.name));
}

/**
 * Stored bytes per output byte for the omnish sessions of the throughput phase, once the daemon has
 * stopped writing (size unchanged for 1 s, or a 30 s deadline).
 * @returns {Promise<{ stored: number, output: number, sessions: number, settled: boolean } | null>}
 */
async function storedRatio(data, outputBytes) {
  const size = () => sessionDirs(data).reduce((sum, d) => sum + treeSize(d), 0);
  const deadline = Date.now() + 30_000;
  let last = -1;
  let stableSince = Date.now();
  // Give a daemon that creates the session lazily a moment to appear.
  while (sessionDirs(data).length === 0 && Date.now() < deadline && Date.now() - stableSince < 2000) await sleep(100);
  if (sessionDirs(data).length === 0) return null;
  let settled = false;
  while (Date.now() < deadline) {
    const now = size();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= 1000) {
      settled = true;
      break;
    }
    await sleep(100);
  }
  return { stored: last, output: outputBytes, sessions: sessionDirs(data).length, settled };
}

/** pids of omnishd processes serving `socket` (their command line or environment names it). */
function daemonPids(socket) {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'latin1');
      if (!cmdline.includes('omnishd')) continue;
      if (cmdline.includes(socket) || readFileSync(`/proc/${name}/environ`, 'latin1').includes(`OMNISH_SOCKET=${socket}\0`)) pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** CPU seconds used so far by each of `pids`. */
function cpuByPid(pids) {
  return new Map(pids.map((pid) => [pid, cpuSeconds(pid)]));
}

/**
 * Starts omnish once and waits (up to 3 s) for its daemon's socket, so that the measurements see the
 * steady state of a user whose omnishd is already running, not its start-up.
 * @returns {Promise<number>} bytes the terminal received (the session is recorded too)
 */
async function warmUp(contender, env, dir) {
  const tty = new Tty(contender, env, dir);
  try {
    await tty.ready();
    const deadline = Date.now() + 3000;
    while (!existsSync(env.OMNISH_SOCKET) && Date.now() < deadline) await sleep(50);
    await tty.settle(100, 1000);
  } finally {
    await tty.close();
  }
  return tty.received;
}

/**
 * Processes left over from this run (a daemon started by omnish, a stray shell): any process whose
 * command line or environment contains `dir` (our temp dir, or a socket path in it). Killed one by
 * one, by pid.
 */
function leftovers(dir) {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    for (const what of ['cmdline', 'environ']) {
      try {
        if (readFileSync(`/proc/${name}/${what}`, 'latin1').includes(dir)) {
          pids.push(Number(name));
          break;
        }
      } catch {
        // gone, or not ours to read
      }
    }
  }
  return pids;
}

async function killLeftovers(dir) {
  const pids = leftovers(dir);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && leftovers(dir).length > 0) await sleep(50);
  for (const pid of leftovers(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const list = contenders(opts.only, opts.omnish);
  const names = list.map((c) => c.name);
  const facts = machine();
  const started = Date.now();
  const loadBefore = loadAverage();
  const busyBefore = await busyFraction();
  const dir = mkdtempSync(join(tmpdir(), 'omnish-bench-'));
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const tty of [...live]) tty.kill();
    const killed = await killLeftovers(dir);
    if (killed.length > 0) log(`cleanup: ended leftover processes ${killed.join(', ')}`);
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      log(`\n${sig}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    log(`omnish bench — ${facts.cpu}, ${facts.cores} cores, Node ${facts.node}, Linux ${facts.kernel}`);
    mkdirSync(join(dir, 'run'), { mode: 0o700 });
    const file = join(dir, 'text.txt');
    let t = Date.now();
    const fileBytes = writeTextFile(file, opts.mb * 1_000_000);
    log(`generated ${fmt(fileBytes / 1e6)} MB of text in ${Date.now() - t} ms`);
    // Throughput phase: its own data dir and socket, so the stored-bytes figure covers exactly its sessions.
    const tpData = join(dir, 'data-throughput');
    const tpEnv = benchEnv(dir, tpData, join(dir, 'run', 'tp.sock'));
    const env = benchEnv(dir, join(dir, 'data'), join(dir, 'run', 'omnish.sock'));

    // 1. Throughput, interleaved and rotated so drift and order effects spread over all contenders.
    /** @type {Record<string, { seconds: number, bytes: number, relayCpu: number, daemonCpu: number, terminalCpu: number }[]>} */
    const tp = Object.fromEntries(names.map((n) => [n, []]));
    let omnishTotal = 0;
    t = Date.now();
    const omnish = list.find((c) => c.name === 'omnish');
    if (omnish) omnishTotal += await warmUp(omnish, tpEnv, dir);
    for (let run = 0; run < opts.runs; run++) {
      for (let k = 0; k < list.length; k++) {
        const c = list[(k + run) % list.length];
        const r = await throughputRun(c, tpEnv, dir, file);
        tp[c.name].push(r);
        if (c.name === 'omnish') omnishTotal += r.totalReceived;
        log(`throughput run ${run + 1}/${opts.runs} ${c.name.padEnd(6)} ${fmt(r.bytes / r.seconds / 1e6)} MB/s ` +
          `(${fmt(r.seconds, 3)} s; relay CPU ${fmt(r.relayCpu, 2)} s, ` +
          `${c.name === 'omnish' ? `daemon CPU ${fmt(r.daemonCpu, 2)} s, ` : ''}terminal CPU ${fmt(r.terminalCpu, 2)} s)`);
      }
    }
    log(`throughput phase: ${((Date.now() - t) / 1000).toFixed(1)} s`);

    // 4. Stored bytes per output byte (the omnish sessions of the throughput phase).
    const stored = names.includes('omnish') ? await storedRatio(tpData, omnishTotal) : null;
    // The daemon of the throughput phase (if omnish started one) has done its work: end it so it
    // does not share the CPU with the next phases.
    await killLeftovers(tpEnv.OMNISH_SOCKET);

    // 2. Keystroke echo.
    /** @type {Record<string, number[]>} */
    const echo = {};
    t = Date.now();
    if (omnish) await warmUp(omnish, env, dir);
    for (const c of list) {
      echo[c.name] = await echoRun(c, env, dir, opts.keys);
      log(`echo ${c.name.padEnd(6)} p50 ${fmt(quantile(echo[c.name], 0.5), 0)} µs p99 ${fmt(quantile(echo[c.name], 0.99), 0)} µs`);
    }
    log(`echo phase: ${((Date.now() - t) / 1000).toFixed(1)} s`);

    // 3. Time to first prompt, interleaved.
    /** @type {Record<string, number[]>} */
    const starts = Object.fromEntries(names.map((n) => [n, []]));
    t = Date.now();
    for (let i = 0; i < opts.starts; i++) {
      for (const c of list) starts[c.name].push(await startRun(c, env, dir));
    }
    log(`first-prompt phase: ${((Date.now() - t) / 1000).toFixed(1)} s`);

    // Results.
    const results = {};
    for (const n of names) {
      const secs = tp[n].map((r) => r.seconds);
      const rates = tp[n].map((r) => r.bytes / r.seconds / 1e6);
      results[n] = {
        throughput: {
          mbPerSec: median(rates),
          seconds: median(secs),
          bytes: median(tp[n].map((r) => r.bytes)),
          relayCpuSeconds: median(tp[n].map((r) => r.relayCpu)),
          daemonCpuSeconds: median(tp[n].map((r) => r.daemonCpu)),
          terminalCpuSeconds: median(tp[n].map((r) => r.terminalCpu)),
          runs: tp[n].map((r) => ({ seconds: r.seconds, bytes: r.bytes, mbPerSec: r.bytes / r.seconds / 1e6, relayCpuSeconds: r.relayCpu,
            daemonCpuSeconds: r.daemonCpu, terminalCpuSeconds: r.terminalCpu })),
        },
        echo: { p50Us: quantile(echo[n], 0.5), p99Us: quantile(echo[n], 0.99), maxUs: Math.max(...echo[n]), samples: echo[n].length },
        firstPrompt: { medianMs: median(starts[n]), minMs: Math.min(...starts[n]), maxMs: Math.max(...starts[n]), samplesMs: starts[n] },
      };
    }
    const get = (n, f) => (results[n] ? f(results[n]) : NaN);
    // Throughput ratios pair the runs of the same round (the contenders ran back to back), then take
    // the median: steadier than a ratio of two medians when the machine's load drifts.
    const slow = (n, base) => (tp[n] && tp[base]
      ? median(tp[n].map((r, i) => ratio(r.seconds, tp[base][i].seconds)).filter(Number.isFinite))
      : NaN);
    const echoR = (n, base, k) => ratio(get(n, (r) => r.echo[k]), get(base, (r) => r.echo[k]));
    const startR = (n, base) => ratio(get(n, (r) => r.firstPrompt.medianMs), get(base, (r) => r.firstPrompt.medianMs));

    const out = [];
    out.push('');
    out.push(`omnish benchmark, ${new Date().toISOString()}`);
    out.push(`machine: ${facts.cpu}, ${facts.cores} cores, Node ${facts.node}, Linux ${facts.kernel}, bash ${facts.bash}, ${facts.script}`);
    const loadAfter = loadAverage();
    out.push(`other load: ${fmt(busyBefore * 100, 0)}% CPU busy in the second before the run; load average ${fmt(loadBefore, 2)} ` +
      `before, ${fmt(loadAfter, 2)} after (includes this run)` + (busyBefore > 0.1 ? ' — the machine was busy: expect noise' : ''));
    if (opts.omnish !== OMNISH) out.push(`omnish measured: ${opts.omnish}`);
    out.push(`settings: ${fmt(fileBytes / 1e6)} MB file, ${opts.runs} throughput runs (median), ${opts.keys} keystrokes, ${opts.starts} starts (median); pty ${COLS}x${ROWS}`);
    out.push('');
    out.push('1. Output throughput: cat of the file, from the write of the command line until the end marker (medians;');
    out.push('   "time vs" is the median over rounds of the time ratio between runs of the same round; CPU: see docs)');
    out.push(table([
      ['contender', 'MB/s', 'seconds', 'MB received', 'time vs direct', 'time vs script', 'relay CPU s', 'daemon CPU s', 'terminal CPU s'],
      ...names.map((n) => [n, fmt(get(n, (r) => r.throughput.mbPerSec)), fmt(get(n, (r) => r.throughput.seconds), 3),
        fmt(get(n, (r) => r.throughput.bytes) / 1e6), fmtRatio(slow(n, 'direct')), fmtRatio(slow(n, 'script')),
        fmt(get(n, (r) => r.throughput.relayCpuSeconds), 2), n === 'omnish' ? fmt(get(n, (r) => r.throughput.daemonCpuSeconds), 2) : '-',
        fmt(get(n, (r) => r.throughput.terminalCpuSeconds), 2)]),
    ]));
    out.push('');
    out.push('2. Keystroke echo round trip at an idle prompt (µs)');
    out.push(table([
      ['contender', 'p50', 'p99', 'max', 'p50 vs direct', 'p99 vs direct', 'p50 vs script', 'p99 vs script'],
      ...names.map((n) => [n, fmt(get(n, (r) => r.echo.p50Us), 0), fmt(get(n, (r) => r.echo.p99Us), 0), fmt(get(n, (r) => r.echo.maxUs), 0),
        fmtRatio(echoR(n, 'direct', 'p50Us')), fmtRatio(echoR(n, 'direct', 'p99Us')),
        fmtRatio(echoR(n, 'script', 'p50Us')), fmtRatio(echoR(n, 'script', 'p99Us'))]),
    ]));
    out.push('');
    out.push('3. Time to first prompt, from spawn (ms)');
    out.push(table([
      ['contender', 'median', 'min', 'max', 'minus direct', 'vs direct', 'vs script'],
      ...names.map((n) => [n, fmt(get(n, (r) => r.firstPrompt.medianMs)), fmt(get(n, (r) => r.firstPrompt.minMs)),
        fmt(get(n, (r) => r.firstPrompt.maxMs)),
        fmt(get(n, (r) => r.firstPrompt.medianMs) - get('direct', (r) => r.firstPrompt.medianMs)),
        fmtRatio(startR(n, 'direct')), fmtRatio(startR(n, 'script'))]),
    ]));
    out.push('');
    const storedText = !names.includes('omnish')
      ? 'n/a (omnish not measured)'
      : stored === null
        ? 'n/a (recording not active)'
        : `${fmt(stored.stored / stored.output, 3)} (${fmt(stored.stored / 1e6)} MB stored in ${stored.sessions} sessions for ` +
          `${fmt(stored.output / 1e6)} MB of output${stored.settled ? '' : '; still growing at the deadline'})`;
    out.push(`4. Stored bytes per output byte (omnish, throughput sessions): ${storedText}`);
    out.push('');

    const targets = [];
    if (names.includes('omnish') && names.includes('direct')) {
      const x = slow('omnish', 'direct');
      targets.push({ name: 'throughput time ≤ 1.25× direct', value: fmtRatio(x), pass: x <= TARGETS.throughputVsDirect,
        note: `script(1): ${fmtRatio(slow('script', 'direct'))} here (issue: about ${TARGETS.scriptThroughputNote}×)` });
      const d = get('omnish', (r) => r.firstPrompt.medianMs) - get('direct', (r) => r.firstPrompt.medianMs);
      targets.push({ name: 'first prompt ≤ direct + 60 ms', value: `+${fmt(d)} ms`, pass: d <= TARGETS.firstPromptExtraMs, note: '' });
    }
    if (names.includes('omnish') && names.includes('script')) {
      const x = echoR('omnish', 'script', 'p99Us');
      targets.push({ name: 'echo p99 ≤ 2× script', value: fmtRatio(x), pass: x <= TARGETS.echoP99VsScript, note: '' });
    }
    if (targets.length > 0) {
      out.push('Targets');
      out.push(table([['target', 'omnish', 'result', ''], ...targets.map((g) => [g.name, g.value, g.pass ? 'PASS' : 'MISS', g.note])]));
      out.push('');
    }
    out.push(`total time ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.stdout.write(`${out.join('\n')}\n`);

    if (opts.json) {
      const json = {
        date: new Date().toISOString(),
        machine: { ...facts, busyBefore, loadBefore, loadAfter },
        settings: { omnish: opts.omnish, fileBytes, runs: opts.runs, keys: opts.keys, starts: opts.starts, cols: COLS, rows: ROWS },
        results,
        ratios: Object.fromEntries(names.map((n) => [n, {
          throughputTimeVsDirect: slow(n, 'direct'),
          throughputTimeVsScript: slow(n, 'script'),
          echoP50VsDirect: echoR(n, 'direct', 'p50Us'),
          echoP99VsDirect: echoR(n, 'direct', 'p99Us'),
          echoP50VsScript: echoR(n, 'script', 'p50Us'),
          echoP99VsScript: echoR(n, 'script', 'p99Us'),
          firstPromptVsDirect: startR(n, 'direct'),
          firstPromptMinusDirectMs: get(n, (r) => r.firstPrompt.medianMs) - get('direct', (r) => r.firstPrompt.medianMs),
        }])),
        stored: stored === null ? null : { ...stored, perOutputByte: stored.stored / stored.output },
        targets: targets.map(({ name, value, pass }) => ({ name, value, pass })),
      };
      // JSON cannot hold NaN; null stands for "not measured".
      writeFileSync(opts.json, `${JSON.stringify(json, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
      log(`wrote ${opts.json}`);
    }
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    log(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
