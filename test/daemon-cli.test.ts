/**
 * `omnish daemon start|stop|restart|status` end to end: the real omnish and omnishd on a private
 * socket in a temporary directory.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonPids, omnish } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { waitUntil } from './helpers/term.js';

const dir = useTestDir();

/** Runs `omnish daemon start` and returns the pid it reports. */
function start(): number {
  const r = omnish(dir.path, ['daemon', 'start']);
  expect(r.status, r.stderr).toBe(0);
  const m = /^omnishd running \(pid (\d+)\)$/m.exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  return Number(m?.[1]);
}

describe('omnish daemon', () => {
  it('start, status, stop, and stop again when it is not running', () => {
    const pid = start();
    expect(daemonPids(dir.path)).toEqual([pid]);
    expect(start()).toBe(pid); // already running: the same daemon

    const status = omnish(dir.path, ['daemon', 'status']);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain(`running (pid ${pid}`);
    const json = JSON.parse(omnish(dir.path, ['daemon', 'status', '--json']).stdout) as { daemon: { pid: number } };
    expect(json.daemon.pid).toBe(pid);

    const stop = omnish(dir.path, ['daemon', 'stop']);
    expect(stop.status, stop.stderr).toBe(0);
    expect(stop.stdout).toBe('omnishd stopped\n');
    // stop returns only once the daemon has exited and removed its socket
    expect(daemonPids(dir.path)).toEqual([]);
    expect(existsSync(join(dir.path, 'run', 'omnish.sock'))).toBe(false);

    const again = omnish(dir.path, ['daemon', 'stop']);
    expect(again.status).toBe(3);
    expect(again.stderr).toBe('omnishd is not running\n');
    expect(omnish(dir.path, ['daemon', 'status']).status).toBe(3);
  });

  it('restart replaces a running daemon, and starts one when none runs', () => {
    const first = start();
    const r = omnish(dir.path, ['daemon', 'restart']);
    expect(r.status, r.stderr).toBe(0);
    const second = Number(/^omnishd running \(pid (\d+)\)$/m.exec(r.stdout)?.[1]);
    expect(r.stdout).toMatch(/^omnishd stopped\nomnishd running/);
    expect(second).not.toBe(first);
    expect(daemonPids(dir.path)).toEqual([second]);

    expect(omnish(dir.path, ['daemon', 'stop']).status).toBe(0);
    const fresh = omnish(dir.path, ['daemon', 'restart']);
    expect(fresh.status).toBe(0);
    expect(fresh.stdout).toMatch(/^omnishd running \(pid \d+\)\n$/);
  });

  it('refuses a stale pid file that names another program, and leaves that program alone', async () => {
    mkdirSync(join(dir.path, 'run'), { mode: 0o700 });
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir.path, 'run', 'omnishd.pid'), `${stranger.pid}\n`);
      const r = omnish(dir.path, ['daemon', 'stop']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`names pid ${stranger.pid}, which is not omnishd`);
      expect(r.stderr).toContain('sleep 30');
      expect(stranger.exitCode).toBeNull();
      expect(stranger.signalCode).toBeNull();
    } finally {
      stranger.kill('SIGKILL');
      await waitUntil(() => stranger.signalCode !== null, 'sleep to exit');
    }
  });

  it('a pid file of a process that has exited means not running', () => {
    mkdirSync(join(dir.path, 'run'), { mode: 0o700 });
    const gone = spawnSync('true').pid;
    writeFileSync(join(dir.path, 'run', 'omnishd.pid'), `${gone}\n`);
    const r = omnish(dir.path, ['daemon', 'stop']);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe('omnishd is not running\n');
  });

  it('--help lists the subcommands and the exit statuses', () => {
    const r = omnish(dir.path, ['daemon', '--help']);
    expect(r.status).toBe(0);
    for (const word of ['start', 'stop', 'restart', 'status', 'Exit status']) expect(r.stdout).toContain(word);
  });
});
