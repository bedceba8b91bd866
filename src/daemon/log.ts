/**
 * The daemon's log: pino JSON lines in `<stateDir>/omnishd.log`. Nothing the daemon does is ever
 * printed into a user's terminal.
 *
 * The log is bounded: past `maxBytes` the file is renamed to `omnishd.log.1` (replacing the one
 * before) and a new one begins, so it takes at most twice `maxBytes` on disk. A log that cannot be
 * written (its disk is full too) drops lines, at most `maxPendingBytes` wait in memory, and the
 * daemon goes on: the log must never be the reason recording stops.
 */
import { renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { makeDirs } from '../common/fs.js';
import { stateDir } from '../common/paths.js';

export type { Logger };

/** Size at which the log is rotated, bytes. */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;
/** Log lines held in memory while the file cannot be written, bytes; newer lines are dropped. */
const MAX_PENDING_BYTES = 1024 * 1024;

/** Path of the daemon's log file. */
export function logPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'omnishd.log');
}

export interface LogOptions {
  /** Rotate past this size, bytes (default LOG_MAX_BYTES). */
  maxBytes?: number;
  /** Write each line at once (tests); default asynchronous. */
  sync?: boolean;
}

/** The daemon's open log. */
export interface DaemonLog {
  log: Logger;
  /** Writes out what is buffered, synchronously; call before exiting once the daemon runs. Never throws. */
  flush: () => void;
  /**
   * Writes out what is buffered and closes the file, also right after opening (when the file may
   * not be open yet, and flush() would throw). Resolves within `timeoutMs` (default 1000) whatever happens.
   */
  close: (timeoutMs?: number) => Promise<void>;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Opens the daemon's logger. `OMNISH_LOG_LEVEL` sets the level (default "info").
 * @throws the fs error if the state directory cannot be created
 */
export function openLog(env: NodeJS.ProcessEnv = process.env, options: LogOptions = {}): DaemonLog {
  const path = logPath(env);
  const maxBytes = options.maxBytes ?? LOG_MAX_BYTES;
  makeDirs(join(path, '..'), 0o700);
  const dest = pino.destination({ dest: path, sync: options.sync ?? false, mkdir: true, mode: 0o600, maxLength: MAX_PENDING_BYTES });
  let size = sizeOf(path);
  let rotating = false;
  dest.on('write', (n: number) => {
    size += n;
    if (size < maxBytes || rotating) return;
    rotating = true;
    try {
      renameSync(path, `${path}.1`);
      size = 0;
      dest.reopen();
    } catch {
      // Cannot rename (read-only, gone): keep writing where we are and try again later.
    } finally {
      rotating = false;
    }
  });
  // sonic-boom emits 'error' for a failed write (ENOSPC); unhandled, it would end the daemon.
  // The lines stay buffered (up to maxLength) and go out with the next write that succeeds.
  dest.on('error', () => undefined);
  const log = pino({ level: env.OMNISH_LOG_LEVEL || 'info', base: { pid: process.pid } }, dest);
  return {
    log,
    flush: () => {
      try {
        dest.flushSync();
      } catch {
        // The disk is full or gone: what could not be written is lost with the process.
      }
    },
    close: (timeoutMs = 1000) =>
      new Promise((resolve) => {
        setTimeout(resolve, timeoutMs).unref();
        dest.once('close', () => resolve());
        dest.once('error', () => resolve());
        dest.end(); // waits for the file to open if it is still opening
      }),
  };
}
