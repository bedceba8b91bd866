#!/usr/bin/env node
// omnish launcher: hands over to the built code. If that cannot load, or fails before it has started
// a shell (a broken install, a bad build, a missing dependency, a bug), the user still gets the real
// shell with the same arguments and login-ness: one line on stderr, never a lockout.
// Plain JS without dependencies: it must work when nothing else does. src/client/exec.ts does the
// same once loaded; keep the two alike.
import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import { homedir, userInfo } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
// node:child_process and node:tty only on the way to the plain shell: loading them costs every
// start that works ~2 ms (docs/benchmarks.md "Start-up").
const builtin = createRequire(import.meta.url);
const launch = { argv0: process.argv0, args: process.argv.slice(2), selfPaths: [self, realpathSync(self)] };
/** Set by the built code once it has started a shell (src/client/exec.ts): no second shell after that. */
const SHELL_STARTED = Symbol.for('omnish.shellStarted');

enableCompileCache();
try {
  const { main } = await import('../dist/client/entry.js');
  await main(launch);
} catch (err) {
  if (globalThis[SHELL_STARTED]) throw err;
  fallBack(err);
}

/**
 * On Node >= 22.1, keeps V8's compiled code of the modules loaded from here on in a per-user cache
 * ($XDG_CACHE_HOME/omnish/node-compile-cache, else ~/.cache/...), so a start reads code instead of
 * compiling it. Not in Node's default under /tmp, which every user shares. Only ever a speed-up:
 * any failure leaves it off (NODE_DISABLE_COMPILE_CACHE=1 turns it off too). omnishd.js does the same.
 */
function enableCompileCache() {
  if (typeof module.enableCompileCache !== 'function') return;
  try {
    const xdg = process.env.XDG_CACHE_HOME;
    const base = xdg && isAbsolute(xdg) ? xdg : join(process.env.HOME || homedir(), '.cache');
    module.enableCompileCache(join(base, 'omnish', 'node-compile-cache'));
  } catch {
    // No home, an unwritable cache: start as without it.
  }
}

/** Runs the real shell in omnish's place, or for a CLI command reports that omnish cannot run. */
function fallBack(err) {
  const reason = String((err && err.message) || err).split('\n')[0];
  const first = launch.args[0];
  const cli = first !== undefined && (['-h', '--help', '-V', '--version'].includes(first) || (!first.startsWith('-') && !exists(first)));
  if (cli) {
    process.stderr.write(`omnish: cannot start (${reason})\n`);
    process.exit(1);
  }
  // Scripts and pipes keep their stderr clean; a person at a terminal learns why omnish is not there.
  if (builtin('node:tty').isatty(2)) process.stderr.write(`omnish: cannot start (${reason}); starting the plain shell\n`);
  const login = launch.argv0.startsWith('-') || ['login', 'sshd', 'sshd-session'].includes(parentName());
  runShell(realShell(), launch.args, login);
}

/** OMNISH_SHELL, else $SHELL unless it is omnish, else the passwd entry (same), else /bin/sh. */
function realShell() {
  let passwd;
  try {
    passwd = userInfo().shell;
  } catch {
    passwd = undefined;
  }
  for (const name of [process.env.OMNISH_SHELL, process.env.SHELL, passwd]) {
    const path = name && which(name);
    if (path && !isSelf(path)) return path;
  }
  return '/bin/sh';
}

function which(name) {
  if (name.includes('/')) return name.startsWith('/') && executable(name) ? name : undefined;
  return (process.env.PATH || '/usr/bin:/bin').split(':').map((dir) => join(dir || '.', name)).find(executable);
}

function isSelf(path) {
  if (/^omnish(\.js)?$/.test(basename(path))) return true;
  try {
    return launch.selfPaths.includes(realpathSync(path));
  } catch {
    return false;
  }
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function exists(path) {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}

function parentName() {
  try {
    return readFileSync(`/proc/${process.ppid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Becomes the shell (execve where Node has it), else runs it as a child and mirrors its end. Never returns. */
function runShell(shell, args, login) {
  const argv0 = login ? `-${basename(shell)}` : shell;
  if (typeof process.execve === 'function') {
    // Node ignores SIGPIPE and SIGXFSZ; ignored stays ignored across exec, caught is reset.
    for (const sig of ['SIGPIPE', 'SIGXFSZ']) process.on(sig, () => {});
    try {
      process.execve(shell, [argv0, ...args], process.env);
    } catch {
      // execve(2) failed: spawn below reports it.
    }
  }
  // As system(3): the terminal sends these to the shell; we only wait.
  for (const sig of ['SIGINT', 'SIGQUIT']) process.on(sig, () => {});
  const child = builtin('node:child_process').spawn(shell, args, { stdio: 'inherit', argv0 });
  const forwarded = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
  for (const sig of forwarded) process.on(sig, () => child.kill(sig));
  child.on('error', (e) => {
    process.stderr.write(`omnish: cannot run ${shell}: ${e.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    for (const sig of ['SIGINT', 'SIGQUIT', ...forwarded]) process.removeAllListeners(sig);
    process.kill(process.pid, signal);
  });
}
