/**
 * `omnish export ID --format asciicast-v2|asciicast-v3|script -o FILE`: writes a recorded session
 * in a format other players understand (asciinema, scriptreplay). Encoders: export-formats.ts;
 * formats and their fidelity limits: docs/export.md.
 *
 * Files are written atomically: into a hidden temporary file beside the target, then renamed, so a
 * failed or refused export never leaves a partial file under the name the user asked for.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { OmnishError, StoreError, UsageError } from '../common/errors.js';
import { readStream, SessionStore, STREAM_FILE } from '../store/index.js';
import { asciicast, EXPORT_FORMATS, script, type ExportFormat } from './export-formats.js';
import type { CommandIo } from './io.js';
import type { CommandSpec } from './registry.js';

/** What `omnish export` was asked to do. */
export interface ExportOptions {
  format: ExportFormat;
  /** Target path; `-` writes to stdout (asciicast formats only). Script also writes `<output>.timing`. */
  output: string;
  /** Replace existing files. */
  force: boolean;
  /** asciicast header title. */
  title?: string;
  /** Include recorded keystrokes as asciicast "i" events. */
  input: boolean;
}

/** Bytes collected before one write(2), bytes: a few large writes rather than one per record. */
const WRITE_BATCH = 256 * 1024;
/** Bytes between two yields to the event loop, so `::export` of a big session does not starve the relay. */
const YIELD_EVERY = 8 * 1024 * 1024;

/** `permission denied` from `EACCES: permission denied, open '/root/.x.tmp'`: strerror without the temp path. */
function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return /^E[A-Z0-9]+: ([^,]+)/.exec(message)?.[1] ?? message;
}

function cannotWrite(path: string, err: unknown): OmnishError {
  return new OmnishError(`cannot write ${path}: ${reason(err)}`, { cause: err });
}

function exists(path: string): UsageError {
  return new UsageError(`${path} already exists (use --force to replace it)`);
}

/** Where bytes go: a target file written through a temporary file, or stdout. */
interface Sink {
  write(data: Buffer | string): void;
  /** Flushes what is batched. */
  flush(): void;
}

/**
 * A file written under a hidden temporary name in the target's directory (same file system, so
 * the final rename is atomic) and moved into place by commit(). Mode 0600: an export holds terminal
 * output, as private as the store it came from.
 */
class AtomicFile implements Sink {
  private readonly tmp: string;
  private fd: number | null;
  private batch: Buffer[] = [];
  private batched = 0;

  constructor(readonly path: string) {
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      this.fd = openSync(this.tmp, 'wx', 0o600);
    } catch (err) {
      throw cannotWrite(path, err);
    }
  }

  write(data: Buffer | string): void {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    this.batch.push(buf);
    this.batched += buf.length;
    if (this.batched >= WRITE_BATCH) this.flush();
  }

  flush(): void {
    if (this.fd === null || this.batched === 0) return;
    const all = Buffer.concat(this.batch, this.batched);
    this.batch = [];
    this.batched = 0;
    try {
      for (let off = 0; off < all.length; ) off += writeSync(this.fd, all, off);
    } catch (err) {
      throw cannotWrite(this.path, err);
    }
  }

  /**
   * Moves the finished file into place. Without `force` a hard link makes "create only if absent"
   * atomic (rename would silently replace a file that appeared meanwhile).
   */
  commit(force: boolean): void {
    try {
      this.flush();
      if (this.fd !== null) {
        // Durable before it is visible: a crash must not leave an empty file under the final name.
        fsyncSync(this.fd);
        closeSync(this.fd);
        this.fd = null;
      }
      if (force) renameSync(this.tmp, this.path);
      else {
        try {
          linkSync(this.tmp, this.path);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EEXIST') throw exists(this.path);
          // File systems without hard links (vfat, some FUSE): check, then rename.
          if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw err;
          if (existsSync(this.path)) throw exists(this.path);
          renameSync(this.tmp, this.path);
        }
      }
    } catch (err) {
      this.abort();
      throw err instanceof OmnishError ? err : cannotWrite(this.path, err);
    }
    this.abort(); // after link: drop the temporary name
  }

  /** Removes the temporary file. Safe to call more than once. */
  abort(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      // already renamed or never created
    }
  }
}

/**
 * stdout through the command's io. asciicast is text, so `out`: unchanged into a pipe, with CR LF
 * line ends when shown by `::export -o -` on a raw terminal.
 */
function stdoutSink(io: CommandIo): Sink {
  return { write: (data) => io.out(typeof data === 'string' ? data : data.toString('utf8')), flush: () => undefined };
}

/**
 * Exports session `id` (a unique prefix) as `opts.format`.
 * @returns the paths written (`-` for stdout)
 * @throws UsageError for an unknown or ambiguous id, `-o -` with script, or an existing target
 *   without --force; OmnishError `cannot write PATH: REASON` when a file cannot be written (nothing
 *   is left behind); StoreError when stream.bin is damaged (what was readable is exported first).
 */
export async function exportSession(io: CommandIo, id: string, opts: ExportOptions, store = new SessionStore()): Promise<string[]> {
  const toStdout = opts.output === '-';
  if (toStdout && opts.format === 'script') throw new UsageError('script writes two files (FILE and FILE.timing): give -o FILE, not -o -');
  if (opts.output === '') throw new UsageError('-o needs a file name');
  // `::export` runs in the omnish client, whose working directory is where omnish started, not
  // where the shell has cd'd since: a relative name would land somewhere the user did not mean.
  if (io.atPrompt && !toStdout && !isAbsolute(opts.output)) {
    throw new UsageError(`at the prompt, give -o an absolute path (${opts.output} would be relative to where omnish started)`);
  }
  const session = store.resolve(id);
  const targets = toStdout ? [] : opts.format === 'script' ? [opts.output, `${opts.output}.timing`] : [opts.output];
  // Refuse early, before the work; commit() checks again atomically.
  for (const path of targets) if (!opts.force && existsSync(path)) throw exists(path);
  const reader = readStream(join(session.dir, STREAM_FILE));
  const files: AtomicFile[] = [];
  try {
    for (const path of targets) files.push(new AtomicFile(path));
    const [main, timing] = toStdout ? [stdoutSink(io)] : files;
    if (!main) throw new Error('export: no output');
    let sinceYield = 0;
    const pause = async (bytes: number): Promise<void> => {
      sinceYield += bytes;
      if (sinceYield < YIELD_EVERY) return;
      sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    };
    if (opts.format === 'script') {
      for (const piece of script(session, reader)) {
        if (piece.typescript) main.write(piece.typescript);
        if (piece.timing) timing?.write(piece.timing);
        await pause(piece.typescript?.length ?? 0);
      }
    } else {
      const version = opts.format === 'asciicast-v2' ? 2 : 3;
      for (const line of asciicast(session, reader, { version, title: opts.title, input: opts.input })) {
        main.write(line);
        await pause(line.length);
      }
    }
    main.flush();
    commitAll(files, opts.force);
  } finally {
    for (const file of files) file.abort(); // only temporary names: a no-op after a commit
  }
  // A live session's last record may still be on its way to disk: that is not damage.
  const end = reader.end;
  if (end.torn && !session.active) {
    throw new StoreError(`session ${session.id}: stream.bin is damaged after byte ${end.validBytes}; exported what was readable`);
  }
  return toStdout ? ['-'] : targets;
}

/**
 * Moves finished files into place, the typescript last (a player finds FILE only once FILE.timing
 * is there). If a later commit fails, the earlier ones are removed again so FILE.timing is never
 * left without FILE; only without --force, where they are certainly ours (with --force they
 * replaced files that cannot be brought back).
 */
function commitAll(files: AtomicFile[], force: boolean): void {
  const done: AtomicFile[] = [];
  try {
    for (const file of [...files].reverse()) {
      file.commit(force);
      done.push(file);
    }
  } catch (err) {
    if (!force) {
      for (const file of done) {
        try {
          unlinkSync(file.path);
        } catch {
          // nothing more to undo
        }
      }
    }
    throw err;
  }
}

const HELP = `
Formats:
  asciicast-v2  asciinema 2.x and asciinema-player (the default)
  asciicast-v3  asciinema 3.x: intervals between events, an exit event
  script        util-linux typescript FILE plus FILE.timing (classic format)

Output is decoded as UTF-8 for asciicast; bytes that are not UTF-8 become U+FFFD.
See docs/export.md for what each format keeps and loses.

Examples:
  omnish export a1b2 -o demo.cast                   then: asciinema play demo.cast
  omnish export a1b2 -f asciicast-v3 -o demo.cast
  omnish export a1b2 -o - | gzip > demo.cast.gz
  omnish export a1b2 -f script -o demo              then: scriptreplay -t demo.timing -s demo
`;

export const exportCommand: CommandSpec<[string], { format: ExportFormat; output: string; force?: boolean; title?: string; input?: boolean }> = {
  name: 'export',
  summary: 'write a session as asciicast (asciinema) or a typescript (scriptreplay)',
  usage: {
    arguments: [{ name: '<id>', description: 'session id, or any unique prefix of it (see omnish sessions)' }],
    options: [
      { flags: '-f, --format <format>', description: 'output format', choices: EXPORT_FORMATS, default: 'asciicast-v2' },
      { flags: '-o, --output <file>', description: 'file to write (- for stdout, asciicast only)', required: true },
      { flags: '--force', description: 'replace existing files' },
      { flags: '-t, --title <text>', description: 'title in the asciicast header' },
      { flags: '--input', description: 'include recorded keystrokes as "i" events (asciicast)' },
    ],
    after: HELP,
  },
  async run(io, [id], flags) {
    await exportSession(io, id, {
      format: flags.format, output: flags.output, force: flags.force === true, title: flags.title, input: flags.input === true,
    });
  },
};
