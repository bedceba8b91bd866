/**
 * Where omnish keeps its files, following the XDG Base Directory specification
 * (https://specifications.freedesktop.org/basedir-spec/latest/). `OMNISH_SOCKET`, `OMNISH_CONFIG`
 * and `OMNISH_DATA_DIR` override the defaults, which is how tests run isolated.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

type Env = Record<string, string | undefined>;

function uid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

function home(env: Env): string {
  return env.HOME || homedir();
}

/** Directory holding the daemon's socket, lock and auth token: `$XDG_RUNTIME_DIR`, else `/tmp/omnish-$UID`. */
export function runtimeDir(env: Env = process.env): string {
  if (env.OMNISH_SOCKET) return join(env.OMNISH_SOCKET, '..');
  return env.XDG_RUNTIME_DIR ? env.XDG_RUNTIME_DIR : `/tmp/omnish-${uid()}`;
}

/** Path of the daemon's Unix socket. */
export function socketPath(env: Env = process.env): string {
  return env.OMNISH_SOCKET || join(runtimeDir(env), 'omnish.sock');
}

/** Path of the config file (it need not exist). */
export function configPath(env: Env = process.env): string {
  if (env.OMNISH_CONFIG) return env.OMNISH_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(home(env), '.config');
  return join(base, 'omnish', 'config.toml');
}

/** Root of omnish's data: sessions live in `<dataDir>/sessions/`. */
export function dataDir(env: Env = process.env): string {
  if (env.OMNISH_DATA_DIR) return env.OMNISH_DATA_DIR;
  const base = env.XDG_DATA_HOME || join(home(env), '.local', 'share');
  return join(base, 'omnish');
}

/** Directory of session directories. */
export function sessionsDir(env: Env = process.env): string {
  return join(dataDir(env), 'sessions');
}

/** Directory of the stored conversations of `ask` and auto-explanations (src/store/threads.ts). */
export function threadsDir(env: Env = process.env): string {
  return join(dataDir(env), 'threads');
}

/** Directory for logs (pino JSON) and the LLM audit log. With OMNISH_DATA_DIR set, logs go beside the data. */
export function stateDir(env: Env = process.env): string {
  if (env.OMNISH_DATA_DIR) return join(env.OMNISH_DATA_DIR, 'state');
  const base = env.XDG_STATE_HOME || join(home(env), '.local', 'state');
  return join(base, 'omnish');
}

/** Path of the daemon's pid file, beside its socket. */
export function daemonPidPath(env: Env = process.env): string {
  return join(runtimeDir(env), 'omnishd.pid');
}
