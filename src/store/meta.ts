/**
 * `meta.json`: who, where and when a session ran, and how it ended. Small and rewritten whole on
 * every change, atomically (write `meta.json.tmp`, fsync, rename), so a reader or a crash sees the
 * old version or the new one, never half of one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '../common/errors.js';

/** Session id: lowercase hex, chosen by the client (12 digits today, at least 6). */
export type SessionId = string;

/** Why a session stopped being active. */
export type EndReason =
  /** The shell exited (the stream ends with an exit record). */
  | 'exit'
  /** The daemon shut down while the session was live; the client may resume it later. */
  | 'daemon-shutdown'
  /** The client's connection dropped without an exit. */
  | 'client-lost';

/** Version of the session directory format (meta.json, stream.bin, events.jsonl) as a whole. */
export const META_FORMAT_VERSION = 1;

/** Contents of `meta.json`. Unknown fields written by a newer omnish are kept on read. */
export interface SessionMeta {
  /** Session id, lowercase hex. */
  id: SessionId;
  /** Host name of the machine the shell ran on. */
  hostname: string;
  /** Process id of the wrapped shell. */
  pid: number;
  /** Process id of the `omnish` client that relayed the session. */
  clientPid: number;
  /** Path of the user's terminal, e.g. `/dev/pts/3`. */
  tty: string;
  /** Path of the shell that was run, e.g. `/bin/bash`. */
  shell: string;
  /** Working directory at session start. */
  cwd: string;
  /** `$TERM` of the user's terminal ('' if unset). */
  term: string;
  /** Terminal width at session start, columns (later sizes are resize records in stream.bin). */
  cols: number;
  /** Terminal height at session start, rows. */
  rows: number;
  /** Wall-clock start, ISO 8601 UTC (`2026-11-21T13:53:03.123Z`); stream tUs count from here. */
  startedAt: string;
  /** Wall-clock end, ISO 8601 UTC; null while active. */
  endedAt: string | null;
  /** Exit status of the shell; null while active, if killed by a signal, or if it ended otherwise. */
  exitCode: number | null;
  /** Signal number that killed the shell; null if none. */
  signal: number | null;
  /** True while the session is being recorded; false once ended or orphaned by a daemon shutdown. */
  active: boolean;
  /** Why it stopped being active; null while active. */
  endReason: EndReason | null;
  /** Format of this session directory; always 1 for now. */
  formatVersion: typeof META_FORMAT_VERSION;
}

/** What the creator of a session supplies; the rest starts as "active, not ended". */
export type NewSessionMeta = Omit<SessionMeta, 'startedAt' | 'endedAt' | 'exitCode' | 'signal' | 'active' | 'endReason' | 'formatVersion'> & {
  /** Defaults to now. */
  startedAt?: string;
};

/** Fields that may change after creation. */
export type MetaPatch = Partial<Omit<SessionMeta, 'id' | 'formatVersion'>>;

const META_FILE = 'meta.json';

const FIELD_TYPES: Record<keyof SessionMeta, (v: unknown) => boolean> = {
  id: (v) => typeof v === 'string' && /^[0-9a-f]+$/.test(v),
  hostname: isString, tty: isString, shell: isString, cwd: isString, term: isString,
  pid: Number.isInteger, clientPid: Number.isInteger, cols: Number.isInteger, rows: Number.isInteger,
  startedAt: (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
  endedAt: (v) => v === null || (typeof v === 'string' && !Number.isNaN(Date.parse(v))),
  exitCode: isIntOrNull, signal: isIntOrNull,
  active: (v) => typeof v === 'boolean',
  endReason: (v) => v === null || v === 'exit' || v === 'daemon-shutdown' || v === 'client-lost',
  formatVersion: (v) => v === META_FORMAT_VERSION,
};

function isString(v: unknown): boolean {
  return typeof v === 'string';
}
function isIntOrNull(v: unknown): boolean {
  return v === null || Number.isInteger(v);
}

/**
 * Checks that `value` is a SessionMeta.
 * @throws StoreError naming `where` and the first bad field.
 */
export function parseMeta(value: unknown, where: string): SessionMeta {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreError(`${where}: not a JSON object`);
  }
  const obj = value as Record<string, unknown>;
  for (const [key, ok] of Object.entries(FIELD_TYPES)) {
    if (!ok(obj[key])) {
      if (key === 'formatVersion' && typeof obj[key] === 'number') {
        throw new StoreError(`${where}: session format version ${obj[key]} is newer than this omnish reads (${META_FORMAT_VERSION})`);
      }
      throw new StoreError(`${where}: field '${key}' is missing or invalid (${JSON.stringify(obj[key])})`);
    }
  }
  return obj as unknown as SessionMeta;
}

/**
 * Reads `<dir>/meta.json`.
 * @throws StoreError if it is missing, not JSON, or not a valid SessionMeta.
 */
export function readMeta(dir: string): SessionMeta {
  const path = join(dir, META_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new StoreError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StoreError(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  return parseMeta(json, path);
}

/**
 * Replaces `<dir>/meta.json` atomically (mode 0600). The fsync before the rename keeps a power cut
 * from leaving an empty file behind the new name.
 * @throws StoreError if it cannot be written.
 */
export function writeMeta(dir: string, meta: SessionMeta): void {
  const path = join(dir, META_FILE);
  const tmp = `${path}.tmp`;
  try {
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeFileSync(fd, `${JSON.stringify(meta, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    throw new StoreError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Reads `<dir>/meta.json`, applies `patch` and writes it back atomically.
 * Only one process (the daemon) writes a session's meta, so read-modify-write does not race.
 * @returns the updated meta.
 * @throws StoreError if it cannot be read or written.
 */
export function updateMeta(dir: string, patch: MetaPatch): SessionMeta {
  const next = { ...readMeta(dir), ...patch };
  parseMeta(next, join(dir, META_FILE));
  writeMeta(dir, next);
  return next;
}
