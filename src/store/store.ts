/**
 * The session store: one directory per session under the sessions directory, named
 * `<ISO basic UTC start>_<id>` (e.g. `20261121T135303Z_a1b2c3d4e5f6`) so `ls` sorts by time and the
 * id is known without opening anything. Layout and file formats: docs/store-format.md.
 *
 * Terminal output is as private as anything a user has, so directories are 0700 and files 0600.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { StoreError, UsageError } from '../common/errors.js';
import { makeDirs } from '../common/fs.js';
import { sessionsDir } from '../common/paths.js';
import { EVENTS_FILE, appendEvent } from './events.js';
import type { SessionRecord } from './records.js';
import {
  META_FORMAT_VERSION, readMeta, updateMeta, writeMeta,
  type EndReason, type MetaPatch, type NewSessionMeta, type SessionId, type SessionMeta,
} from './meta.js';
import { StreamWriter, type StreamWriterOptions } from './writer.js';

/** Name of the stream file inside a session directory. */
export const STREAM_FILE = 'stream.bin';

/** A session as listed or resolved: its meta plus where it lives. */
export type StoredSession = SessionMeta & {
  /** Absolute path of the session directory. */
  dir: string;
};

const DIR_NAME = /^(\d{8}T\d{6}Z)_([0-9a-f]+)$/;
const VALID_ID = /^[0-9a-f]{6,64}$/;
/** Candidates named in an "ambiguous" message before "and N more". */
const MAX_LISTED = 5;

/** Directory name of a session: `20261121T135303Z_a1b2c3d4e5f6` (start time in UTC, seconds). */
export function sessionDirName(id: SessionId, startedAt: string): string {
  const iso = new Date(startedAt).toISOString(); // 2026-11-21T13:53:03.123Z
  return `${iso.slice(0, 19).replace(/[-:]/g, '')}Z_${id}`;
}

/** `'text'` for a message, with anything unprintable escaped so it cannot act on the terminal. */
function quote(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return `'${shown.replace(/[^\x20-\x7e]/g, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`)}'`;
}

function startedLabel(meta: SessionMeta): string {
  return `${new Date(meta.startedAt).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A live session: its directory, meta and stream writer. The daemon holds one per connected client. */
export class SessionHandle {
  private current: SessionMeta;
  private ended = false;

  constructor(
    /** Absolute path of the session directory. */
    readonly dir: string,
    meta: SessionMeta,
    /** Writer of `stream.bin`; the owner calls `stream.flush()` periodically. */
    readonly stream: StreamWriter,
  ) {
    this.current = meta;
  }

  /** The meta as last written. */
  get meta(): SessionMeta {
    return this.current;
  }

  /** Updates meta.json atomically. @throws StoreError if it cannot be written. */
  update(patch: MetaPatch): SessionMeta {
    this.current = updateMeta(this.dir, patch);
    return this.current;
  }

  /** Appends a record to events.jsonl (src/store/records.ts). @throws StoreError if it cannot be written. */
  appendEvent(record: SessionRecord): void {
    appendEvent(this.dir, record);
  }

  /**
   * Ends the session: for reason 'exit' writes the exit record (at `tUs`, µs since session start;
   * default: now by the wall clock, never before the last record), then flushes and closes the
   * stream and marks meta.json inactive. Other reasons write no exit record, because the session
   * may be resumed and its stream continued. Calling it again does nothing.
   * @throws StoreError if the stream or meta cannot be written (meta is updated even if the stream fails).
   */
  end(exitCode: number | null, signal: number | null, reason: EndReason, tUs?: number): SessionMeta {
    if (this.ended) return this.current;
    this.ended = true;
    let streamError: unknown = null;
    try {
      if (reason === 'exit') {
        const nowUs = Math.round((Date.now() - Date.parse(this.current.startedAt)) * 1000);
        this.stream.exit(tUs ?? Math.max(this.stream.lastTUs, nowUs, 0), exitCode, signal);
      }
      this.stream.close();
    } catch (err) {
      streamError = err;
    }
    this.update({ active: false, endedAt: new Date().toISOString(), exitCode, signal, endReason: reason });
    if (streamError !== null) throw streamError;
    return this.current;
  }
}

/** The sessions directory. Only the daemon writes to it; the CLI reads. */
export class SessionStore {
  /** Absolute path of the sessions directory. */
  readonly root: string;

  constructor(root: string = sessionsDir()) {
    this.root = resolvePath(root);
  }

  /**
   * Creates a session directory with meta.json, an empty stream.bin and events.jsonl.
   * @throws StoreError if the id is not 6–64 lowercase hex digits, a session with this id exists,
   *   or the files cannot be created (nothing is left behind then).
   */
  create(meta: NewSessionMeta, options?: StreamWriterOptions): SessionHandle {
    if (!VALID_ID.test(meta.id)) throw new StoreError(`invalid session id ${quote(meta.id)}: expected 6-64 hex digits`);
    if (this.entries().some((e) => e.id === meta.id)) throw new StoreError(`a session with id ${meta.id} already exists`);
    const startMs = meta.startedAt === undefined ? Date.now() : Date.parse(meta.startedAt);
    if (Number.isNaN(startMs)) throw new StoreError(`invalid startedAt ${quote(meta.startedAt ?? '')}`);
    const startedAt = new Date(startMs).toISOString(); // one spelling: UTC, ms, 'Z'
    const full: SessionMeta = {
      ...meta, startedAt, endedAt: null, exitCode: null, signal: null, active: true, endReason: null,
      formatVersion: META_FORMAT_VERSION,
    };
    const dir = join(this.root, sessionDirName(meta.id, startedAt));
    try {
      makeDirs(this.root, 0o700);
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      throw new StoreError(`cannot create ${dir}: ${(err as Error).message}`, { cause: err });
    }
    let stream: StreamWriter | null = null;
    try {
      writeMeta(dir, full);
      stream = StreamWriter.open(join(dir, STREAM_FILE), options);
      writeFileSync(join(dir, EVENTS_FILE), '', { mode: 0o600, flag: 'wx' });
      return new SessionHandle(dir, full, stream);
    } catch (err) {
      try {
        stream?.close();
      } catch {
        // The directory goes away next; the original error is the one worth reporting.
      }
      rmSync(dir, { recursive: true, force: true }); // ours alone: created just above
      throw err instanceof StoreError ? err : new StoreError(`cannot create ${dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Reopens a session for writing after a daemon restart (the client reconnects with its id): finds
   * it by exact id, reopens stream.bin for appending (cutting a torn tail; see
   * `handle.stream.truncatedBytes`) and marks it active again.
   * @throws StoreError if no session has this id, it ended with an exit, or its files are unusable.
   */
  openExisting(id: SessionId, options?: StreamWriterOptions): SessionHandle {
    const matches = this.entries().filter((e) => e.id === id);
    const entry = matches[0];
    if (!entry) throw new StoreError(`no session with id ${quote(id)} to resume`);
    if (matches.length > 1) throw new StoreError(`several session directories have id ${id}`);
    if (readMeta(entry.dir).endReason === 'exit') throw new StoreError(`session ${id} has exited; it cannot be resumed`);
    const stream = StreamWriter.open(join(entry.dir, STREAM_FILE), options);
    try {
      const meta = updateMeta(entry.dir, { active: true, endedAt: null, endReason: null, exitCode: null, signal: null });
      return new SessionHandle(entry.dir, meta, stream);
    } catch (err) {
      stream.close();
      throw err;
    }
  }

  /**
   * All sessions, newest first. Directories whose meta.json is missing or invalid (a crash during
   * create, a newer format) are skipped, so one bad session cannot hide the others.
   * @throws StoreError only if the sessions directory exists but cannot be read.
   */
  list(): StoredSession[] {
    return this.load(this.entries());
  }

  /**
   * Finds the session a user means by an id prefix (case-insensitive). A full id always wins, even
   * if it is also the prefix of a longer id.
   * @throws UsageError with a one-line message for an empty or non-hex prefix, no match, or an
   *   ambiguous prefix (naming the candidates, newest first).
   */
  resolve(prefix: string): StoredSession {
    const want = prefix.toLowerCase();
    if (want === '') throw new UsageError('no session id given');
    if (!/^[0-9a-f]+$/.test(want)) throw new UsageError(`${quote(prefix)} is not a session id (ids are hex: 0-9, a-f)`);
    const named = this.entries().filter((e) => e.id.startsWith(want));
    const exact = named.filter((e) => e.id === want);
    const found = this.load(exact.length > 0 ? exact : named);
    const [first, ...rest] = found;
    if (!first) throw new UsageError(`no session matches ${quote(want)}`);
    if (rest.length === 0) return first;
    const listed = found.slice(0, MAX_LISTED).map((s) => `${s.id} (started ${startedLabel(s)})`);
    const more = found.length > MAX_LISTED ? `, and ${found.length - MAX_LISTED} more` : '';
    throw new UsageError(`${quote(want)} is ambiguous: ${listed.join(', ')}${more}`);
  }

  /** Updates a session's meta.json atomically. @throws StoreError if it cannot be read or written. */
  updateMeta(dir: string, patch: MetaPatch): SessionMeta {
    return updateMeta(dir, patch);
  }

  /** Session directories by name, without reading them. */
  private entries(): { id: SessionId; dir: string }[] {
    let names;
    try {
      names = readdirSync(this.root, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StoreError(`cannot read ${this.root}: ${(err as Error).message}`, { cause: err });
    }
    const out: { id: SessionId; dir: string }[] = [];
    for (const d of names) {
      const id = d.isDirectory() ? DIR_NAME.exec(d.name)?.[2] : undefined;
      if (id !== undefined) out.push({ id, dir: join(this.root, d.name) });
    }
    return out;
  }

  /** Reads the metas of `entries`, skipping unreadable ones, newest first. */
  private load(entries: { dir: string }[]): StoredSession[] {
    const out: StoredSession[] = [];
    for (const { dir } of entries) {
      try {
        out.push({ ...readMeta(dir), dir });
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
      }
    }
    return out.sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || (a.dir < b.dir ? 1 : a.dir > b.dir ? -1 : 0));
  }
}
