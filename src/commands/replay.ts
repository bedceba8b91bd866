/**
 * `omnish replay ID`: plays a recorded session's output with its original timing, raw, so colours
 * and full-screen programs come back exactly. On a terminal, space pauses and q (or Ctrl-C) quits;
 * into a pipe or file the bytes are written at once.
 */
import { join } from 'node:path';
import { StoreError, UsageError } from '../common/errors.js';
import { readCommandRecords, readStream, RecordKind, SessionStore, STREAM_FILE, type StoredSession } from '../store/index.js';
import type { CommandIo } from './io.js';
import type { CommandSpec } from './registry.js';

/** How a replay is timed. */
export interface ReplayOptions {
  /** Playback speed factor (2 = twice as fast). */
  speed: number;
  /** Longest pause kept between two outputs, seconds (Infinity = keep every pause). */
  idleLimit: number;
  /** Wait between outputs (false: write everything at once, as into a pipe). */
  timed: boolean;
  /** Start at this offset of the output byte stream (a command's outputStart), bytes; what comes before is skipped. */
  fromOutput?: number;
}

/** Keyboard control during a replay on a terminal. */
interface Controls {
  paused: boolean;
  quit: boolean;
  wake: (() => void) | undefined;
}

function parsePositive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, got '${value}'`);
  return n;
}

function sleep(ms: number, controls: Controls): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      controls.wake = undefined;
      resolve();
    }
    controls.wake = done;
  });
}

async function waitWhilePaused(controls: Controls): Promise<void> {
  while (controls.paused && !controls.quit) await sleep(3_600_000, controls);
}

/**
 * Writes the session's output to `write`, timed as recorded.
 * @returns whether the stream ended torn, and how many bytes were valid
 * @throws StoreError when stream.bin is missing or not a stream file
 */
export async function replay(session: StoredSession, opts: ReplayOptions, write: (b: Buffer) => void, controls: Controls): Promise<{ torn: boolean; validBytes: number }> {
  const reader = readStream(join(session.dir, STREAM_FILE));
  let lastTUs: number | undefined;
  let offset = 0; // output bytes before this record
  const from = opts.fromOutput ?? 0;
  for (const rec of reader) {
    if (controls.quit) break;
    if (rec.kind !== RecordKind.Output) continue;
    const start = offset;
    offset += rec.data.length;
    if (offset <= from) continue;
    const data = start < from ? rec.data.subarray(from - start) : rec.data;
    if (opts.timed && lastTUs !== undefined) {
      const waitMs = Math.min((rec.tUs - lastTUs) / 1000, opts.idleLimit * 1000) / opts.speed;
      if (waitMs >= 1) await sleep(waitMs, controls);
      await waitWhilePaused(controls);
      if (controls.quit) break;
    }
    lastTUs = rec.tUs;
    write(data);
  }
  return controls.quit ? { torn: false, validBytes: 0 } : reader.end;
}

/** Wires space/q/Ctrl-C to `controls`; returns the function that releases the keyboard. */
function keyboard(out: CommandIo, controls: Controls): () => void {
  const onKey = (key: Buffer): void => {
    if (key.includes(0x71) || key.includes(0x03)) controls.quit = true; // q, Ctrl-C
    else if (key.includes(0x20)) controls.paused = !controls.paused;
    controls.wake?.();
  };
  if (out.onKey) return out.onKey(onKey);
  // On the command line we own the terminal: raw, so keys arrive one by one and output is not altered.
  return out.rawKeys?.(onKey) ?? (() => {});
}

/** Options of `omnish replay`, as commander gives them. */
export interface ReplayFlags {
  speed: string;
  idleLimit?: string;
  /** Command number to start at (`omnish commands ID`). */
  from?: string;
}

/** Where command `seq` of `session` starts in its output byte stream. @throws UsageError for an unknown seq */
function commandStart(session: StoredSession, seq: string): number {
  const n = Number(seq);
  const record = readCommandRecords(session.dir).find((r) => r.seq === n);
  if (!record) throw new UsageError(`session ${session.id} has no command ${seq} (see omnish commands ${session.id})`);
  return record.outputStart;
}

/**
 * Plays session `id` (a prefix) on `out`, from its start or from command `flags.from`.
 * @throws UsageError for a bad id, option or seq; StoreError for a damaged stream
 */
export async function replaySession(out: CommandIo, id: string, flags: ReplayFlags): Promise<void> {
  const session = new SessionStore().resolve(id);
  const opts: ReplayOptions = {
    speed: parsePositive('--speed', flags.speed),
    idleLimit: flags.idleLimit === undefined ? Infinity : parsePositive('--idle-limit', flags.idleLimit),
    timed: out.isTTY,
    ...(flags.from !== undefined ? { fromOutput: commandStart(session, flags.from) } : {}),
  };
  const controls: Controls = { paused: false, quit: false, wake: undefined };
  const release = opts.timed ? keyboard(out, controls) : () => {};
  // Inside a session (`::replay`), play on the alternate screen: q brings back the screen as it was.
  const inPlace = out.atPrompt && out.isTTY;
  if (inPlace) out.raw(Buffer.from('\x1b[?1049h\x1b[H\x1b[2J'));
  let result;
  try {
    result = await replay(session, opts, (b) => out.raw(b), controls);
  } finally {
    if (inPlace) out.raw(Buffer.from('\x1b[0m\x1b[?1049l'));
    release();
  }
  // A live session's last record may still be on its way to disk: that is not damage.
  if (result.torn && !session.active) {
    throw new StoreError(`session ${session.id}: stream.bin is damaged after byte ${result.validBytes}; replayed what was readable`);
  }
}

export const replayCommand: CommandSpec<[string], ReplayFlags> = {
  name: 'replay',
  summary: 'play a recorded session with its original timing',
  usage: {
    arguments: [{ name: '<id>', description: 'session id, or any unique prefix of it (see omnish sessions)' }],
    options: [
      { flags: '-s, --speed <factor>', description: 'playback speed factor', default: '1' },
      { flags: '-i, --idle-limit <seconds>', description: 'longest pause kept between outputs' },
      { flags: '--from <seq>', description: 'start at command SEQ (omnish commands ID lists them); earlier output is skipped' },
    ],
    after: '\nOn a terminal: space pauses and resumes, q or Ctrl-C quits.\nInto a pipe or a file the output is written at once.\n',
  },
  run: (io, [id], flags) => replaySession(io, id, flags),
};
