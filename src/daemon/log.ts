/**
 * The daemon's log: pino JSON lines in `<stateDir>/omnishd.log`. Nothing the daemon does is ever
 * printed into a user's terminal.
 *
 * The log is bounded: past `maxBytes` the file is renamed to `omnishd.log.1` (replacing the one
 * before) and a new one begins, so it takes at most twice `maxBytes` on disk. A log that cannot be
 * written (its disk is full too) drops lines, at most `maxPendingBytes` wait in memory, and the
 * daemon goes on: the log must never be the reason recording stops.
 */
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
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

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Opens the daemon's logger. `OMNISH_LOG_LEVEL` sets the level (default "info").
 * @returns the logger and a `flush()` to call before exiting.
 */
export function openLog(env: NodeJS.ProcessEnv = process.env, options: LogOptions = {}): { log: Logger; flush: () => void } {
  const path = logPath(env);
  const maxBytes = options.maxBytes ?? LOG_MAX_BYTES;
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
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
  };
}
