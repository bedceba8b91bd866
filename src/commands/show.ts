/**
 * `omnish show ID:SEQ`: one command's output as the user saw it. The recorded bytes are rendered
 * on a headless terminal of the session's size, so progress bars and cursor movement collapse to
 * their final text; `--raw` writes the bytes themselves.
 */
import { join } from 'node:path';
import { UsageError } from '../common/errors.js';
import { readCommandRecords, readOutputRange, renderOutput, SessionStore, STREAM_FILE, type CommandRecord } from '../store/index.js';
import { MAX_RENDER_BYTES } from '../tools/limits.js';
import { pickSession } from '../tools/sessions.js';
import type { CommandIo } from './io.js';
import type { CommandSpec } from './registry.js';

export { MAX_RENDER_BYTES } from '../tools/limits.js';

/** A reference to a command: a session id prefix (undefined: the current session) and a seq (negative: from the end). */
export interface CommandRef {
  id?: string;
  /** 1, 2, … as in `omnish commands`; -1 is the last command, -2 the one before. */
  seq: number;
}

/**
 * Parses `ID:SEQ`, `SEQ` or `ID:-1` (also `:-1`).
 * @throws UsageError for anything else
 */
export function parseCommandRef(arg: string): CommandRef {
  const m = /^(?:([0-9a-fA-F]*):)?(-?\d{1,9})$/.exec(arg.trim());
  const seq = Number(m?.[2]);
  if (!m || seq === 0) {
    throw new UsageError(`'${arg}' is not a command: expected ID:SEQ (e.g. a1b2:3), SEQ, or ID:-1 for the last one`);
  }
  return m[1] ? { id: m[1], seq } : { seq };
}

function find(records: CommandRecord[], seq: number): CommandRecord | undefined {
  return seq > 0 ? records.find((r) => r.seq === seq) : records[records.length + seq];
}

/**
 * Prints the output of the command `arg` names (see parseCommandRef): rendered text, or with
 * `raw` the recorded bytes.
 * @throws UsageError for a bad reference, an unknown or ambiguous session, an unknown seq
 */
export async function showOutput(out: CommandIo, arg: string, opts: { raw?: boolean }, store = new SessionStore()): Promise<void> {
  const ref = parseCommandRef(arg);
  const session = pickSession(store, ref.id);
  const records = readCommandRecords(session.dir);
  const record = find(records, ref.seq);
  if (!record) {
    const first = records[0];
    const last = records[records.length - 1];
    const has = first && last ? `its commands are ${first.seq}-${last.seq}` : 'it has no recorded commands';
    throw new UsageError(`session ${session.id} has no command ${ref.seq} (${has}; see omnish commands ${session.id})`);
  }
  const stream = join(session.dir, STREAM_FILE);
  if (record.outputTrimmed) {
    // Retention cut the middle of a large session (docs/store-format.md "Retention"): what is left prints as usual.
    const lost = record.outputTrimmed < 1048576 ? `${Math.ceil(record.outputTrimmed / 1024)} KiB` : `${(record.outputTrimmed / 1048576).toFixed(1)} MiB`;
    out.err(`omnish: ${lost} of command ${record.seq}'s output was trimmed (session over [store] max_session_mb); showing what is left\n`);
  }
  if (opts.raw) return out.raw(readOutputRange(stream, record.outputStart, record.outputEnd, session).data);
  const size = record.outputEnd - record.outputStart;
  if (size > MAX_RENDER_BYTES) {
    out.err(`omnish: command ${record.seq} wrote ${(size / 1048576).toFixed(1)} MiB; showing the text of the last ${MAX_RENDER_BYTES / 1048576} MiB (--raw writes all)\n`);
  }
  const range = readOutputRange(stream, Math.max(record.outputStart, record.outputEnd - MAX_RENDER_BYTES), record.outputEnd, session);
  if (record.altScreen) {
    out.err(`omnish: command ${record.seq} ran a full-screen program; its screen is not part of the text (try --raw, or omnish replay)\n`);
  }
  const text = await renderOutput(range.data, range.cols, { rows: range.rows });
  if (text !== '') out.out(`${text}\n`);
}

export const showCommand: CommandSpec<[string], { raw?: boolean }> = {
  name: 'show',
  summary: 'print the output of one command, as it looked on the terminal',
  usage: {
    arguments: [{ name: '<ID:SEQ>', description: 'session id (or unique prefix) and command number; SEQ alone: this shell\'s session; ID:-1: the last command' }],
    options: [{ flags: '--raw', description: 'write the recorded bytes (colours, cursor movement) instead of the rendered text' }],
    after: '\nCommand numbers: omnish commands [ID]\n',
  },
  run: (io, [arg], opts) => showOutput(io, arg, opts),
};
