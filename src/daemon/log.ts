/**
 * The daemon's log: pino JSON lines in `<stateDir>/omnishd.log`. Nothing the daemon does is ever
 * printed into a user's terminal.
 */
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { makeDirs } from '../common/fs.js';
import { stateDir } from '../common/paths.js';

export type { Logger };

/** Path of the daemon's log file. */
export function logPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'omnishd.log');
}

/** The daemon's open log. */
export interface DaemonLog {
  log: Logger;
  /** Writes out what is buffered, synchronously; call before exiting once the daemon runs. */
  flush: () => void;
  /**
   * Writes out what is buffered and closes the file, also right after opening (when the file may
   * not be open yet, and flush() would throw). Resolves within `timeoutMs` (default 1000) whatever happens.
   */
  close: (timeoutMs?: number) => Promise<void>;
}

/**
 * Opens the daemon's logger. `OMNISH_LOG_LEVEL` sets the level (default "info").
 * @throws the fs error if the state directory cannot be created
 */
export function openLog(env: NodeJS.ProcessEnv = process.env): DaemonLog {
  const path = logPath(env);
  makeDirs(join(path, '..'), 0o700);
  const dest = pino.destination({ dest: path, sync: false, mkdir: true, mode: 0o600 });
  const log = pino({ level: env.OMNISH_LOG_LEVEL || 'info', base: { pid: process.pid } }, dest);
  const close = (timeoutMs = 1000): Promise<void> =>
    new Promise((resolve) => {
      setTimeout(resolve, timeoutMs).unref();
      dest.once('close', () => resolve());
      dest.once('error', () => resolve());
      dest.end(); // waits for the file to open if it is still opening
    });
  return { log, flush: () => dest.flushSync(), close };
}
