/**
 * The daemon's log: pino JSON lines in `<stateDir>/omnishd.log`. Nothing the daemon does is ever
 * printed into a user's terminal.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { stateDir } from '../common/paths.js';

export type { Logger };

/** Path of the daemon's log file. */
export function logPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'omnishd.log');
}

/**
 * Opens the daemon's logger. `OMNISH_LOG_LEVEL` sets the level (default "info").
 * @returns the logger and a `flush()` to call before exiting.
 */
export function openLog(env: NodeJS.ProcessEnv = process.env): { log: Logger; flush: () => void } {
  const path = logPath(env);
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const dest = pino.destination({ dest: path, sync: false, mkdir: true, mode: 0o600 });
  const log = pino({ level: env.OMNISH_LOG_LEVEL || 'info', base: { pid: process.pid } }, dest);
  return { log, flush: () => dest.flushSync() };
}
