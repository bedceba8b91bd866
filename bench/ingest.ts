/**
 * omnishd's ingest cost: CPU time (user + system, all threads) the daemon spends storing a
 * session's output, per 50 MB, with no relay and no terminal in the way. A peer speaks the real
 * protocol on the real socket: Hello, SessionStart with a nonce, then the output as the native
 * relay sends it (IoData frames of 64 KiB) inside the shell integration's marks, then SessionEnd.
 * By default the output is one command (`cat` of a build log, as `npm run bench` measures);
 * --lines-per-command N makes a command of every N lines instead, where the per-command work (the
 * command record, the event detector, events to the client) dominates. Builds given with --omnish alternate within each round, so they meet the same load.
 *
 * Usage: npm run bench:ingest [-- --mb N --rounds N --lines-per-command N --omnish FILE [--omnish FILE ...] --cpu-prof DIR]
 * (--cpu-prof: the daemon writes a V8 CPU profile of each round into DIR, for chrome://inspect or speedscope)
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { IoDir, encodeFrame } from '../src/protocol/index.js';
import { tempDir } from '../test/helpers/env.js';
import { OMNISH } from '../test/helpers/paths.js';
import { daemonToken, helloFrame, rawPeer, sessionStartFrame, type RawPeer } from '../test/helpers/peer.js';
import { waitUntil } from '../test/helpers/wait.js';
import { benchEnv, isolation } from './contenders.js';
import { startDaemon } from './measure.js';
import { cpuSeconds, cpuWhenIdle, loadAverage } from './procfs.js';
import { fmt, median, table } from './stats.js';

/** Output bytes per IoData frame: the native relay's batch. */
const FRAME_BYTES = 64 * 1024;

interface Options {
  mb: number;
  rounds: number;
  /** Lines of output per command; 0: all of it is one command. */
  linesPerCommand: number;
  builds: string[];
  /** Directory for the daemon's CPU profiles (node --cpu-prof), if any. */
  cpuProf: string | undefined;
}

function parse(argv: readonly string[]): Options {
  const opts: Options = { mb: 50, rounds: 5, linesPerCommand: 0, builds: [], cpuProf: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--mb') opts.mb = Number(value());
    else if (arg === '--rounds') opts.rounds = Number(value());
    else if (arg === '--lines-per-command') opts.linesPerCommand = Number(value());
    else if (arg === '--omnish') opts.builds.push(value());
    else if (arg === '--cpu-prof') opts.cpuProf = value();
    else throw new Error(`unknown option ${arg} (usage: --mb N --rounds N --omnish FILE ...)`);
  }
  if (!(opts.mb > 0 && opts.rounds > 0)) throw new Error('--mb and --rounds must be positive');
  if (opts.builds.length === 0) opts.builds.push(OMNISH);
  return opts;
}

/** A build log with colour: compiler lines, warnings, a test summary; marks around each command. */
function sessionOutput(totalBytes: number, nonce: string, linesPerCommand: number): Buffer[] {
  const mark = (body: string): string => `\x1b]${body};omnish=${nonce}\x07`;
  const lines: string[] = [];
  let size = 0;
  for (let cmd = 0; size < totalBytes; cmd++) {
    const head = `${mark('133;A')}$ ${mark('133;B')}make -j2 target${cmd}\r\n${mark(`633;E;make -j2 target${cmd}`)}${mark('633;P;Cwd=/home/u/src')}${mark('133;C')}`;
    lines.push(head);
    size += head.length;
    for (let i = 0; (linesPerCommand === 0 || i < linesPerCommand) && size < totalBytes; i++) {
      const line =
        i % 17 === 0
          ? `\x1b[1;33mwarning:\x1b[0m src/module${i % 1000}.c:${i % 997}: unused variable 'tmp${i % 13}' [-Wunused-variable]\r\n`
          : `  CC      build/obj/module${cmd}_${i % 1000}.o  (${(i * 37) % 1000} ms)\r\n`;
      lines.push(line);
      size += line.length;
    }
    const tail = `\x1b[32mok\x1b[0m ${cmd}\r\n${mark(`133;D;${cmd % 5 === 0 ? 2 : 0}`)}`;
    lines.push(tail);
    size += tail.length;
  }
  const all = Buffer.from(lines.join(''), 'latin1');
  const frames: Buffer[] = [];
  for (let o = 0, t = 0; o < all.length; o += FRAME_BYTES, t += 5000) {
    frames.push(encodeFrame({ type: 'IoData', dir: IoDir.Output, tUs: t, data: all.subarray(o, o + FRAME_BYTES) }));
  }
  return frames;
}

/** One session of `frames` into the daemon of `build`; returns the daemon's CPU seconds for it. */
async function ingestOnce(build: string, frames: Buffer[], nonce: string, cpuProf: string | undefined): Promise<number> {
  const dir = tempDir('omnish-ingest-');
  const iso = isolation(dir.path);
  const omnishd = join(build, '..', 'omnishd.js');
  const pid = await startDaemon(omnishd, benchEnv(iso), iso, cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`] : []);
  try {
    await waitUntil(() => {
      try {
        return daemonToken(dir.path).length > 0;
      } catch {
        return false;
      }
    }, 'the daemon token', 15_000);
    // A first small session loads what the daemon loads once (the LLM service, the detector's
    // patterns): a long-running daemon has paid for that already.
    await session(iso.socket, dir.path, frames.slice(0, 16), nonce);
    const before = await cpuWhenIdle(pid);
    await session(iso.socket, dir.path, frames, nonce);
    return (await cpuWhenIdle(pid)) - before;
  } finally {
    process.kill(pid, 'SIGTERM');
    await waitUntil(() => Number.isNaN(cpuSeconds(pid)), 'omnishd to exit', 15_000).catch(() => process.kill(pid, 'SIGKILL'));
    dir.cleanup();
  }
}

/** One session with `frames` as its output, to its end (the daemon closes the connection). */
async function session(socket: string, dir: string, frames: Buffer[], nonce: string): Promise<void> {
  const peer = await connected(socket);
  const id = randomBytes(6).toString('hex');
  peer.sock.write(Buffer.concat([helloFrame(daemonToken(dir), 'session'), sessionStartFrame(id, { nonce })]));
  for (const f of frames) if (!peer.sock.write(f)) await new Promise((r) => peer.sock.once('drain', r));
  peer.sock.end(encodeFrame({ type: 'SessionEnd', tUs: frames.length * 5000, exitCode: 0, signal: null }));
  await peer.closed;
}

/** A connection to the daemon, retried for up to 15 s while it is still starting to listen. */
async function connected(socket: string): Promise<RawPeer> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const peer = rawPeer(socket);
    try {
      await peer.connected;
      return peer;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function main(): Promise<void> {
  const opts = parse(process.argv.slice(2));
  const nonce = randomBytes(16).toString('hex');
  const frames = sessionOutput(opts.mb * 1e6, nonce, opts.linesPerCommand);
  const per50 = 50 / opts.mb;
  const samples = new Map<string, number[]>(opts.builds.map((b) => [b, []]));
  const shape = opts.linesPerCommand ? `a command every ${opts.linesPerCommand} lines` : 'one command';
  process.stderr.write(`ingest: ${opts.mb} MB (${shape}) in ${frames.length} frames, ${opts.rounds} rounds, load average ${fmt(loadAverage(), 2)}\n`);
  for (let r = 0; r < opts.rounds; r++) {
    const order = opts.builds.map((_, i) => opts.builds[(i + r) % opts.builds.length]!);
    for (const build of order) samples.get(build)!.push((await ingestOnce(build, frames, nonce, opts.cpuProf)) * per50);
  }
  const rows = [['build', 'omnishd CPU s / 50 MB (median)', 'min', 'max']];
  for (const [build, xs] of samples) rows.push([build, fmt(median(xs), 3), fmt(Math.min(...xs), 3), fmt(Math.max(...xs), 3)]);
  process.stdout.write(`${table(rows)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:ingest: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
