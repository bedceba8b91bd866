/**
 * A daemon that cannot serve says why and stops, and a client that autostarts it gives up quietly.
 * The socket is put where its directory cannot be created (`/proc/...`: mkdir answers ENOENT there,
 * which made Node's recursive mkdir retry forever at 90 % CPU).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_FAILED_SPAWNS } from '../src/control/autostart.js';
import { OMNISHD } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { runIn, testEnv, waitUntil } from './helpers/term.js';

const dir = useTestDir();
const BAD_SOCKET = `/proc/omnish-none-${process.pid}/omnish.sock`;
const badEnv = (): Record<string, string> => ({ OMNISH_SOCKET: BAD_SOCKET });

/** pids of omnishd processes whose environment names BAD_SOCKET. */
function badDaemons(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return (
          readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('omnishd.js') &&
          readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`OMNISH_SOCKET=${BAD_SOCKET}`)
        );
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** The "cannot serve" lines the failed daemons wrote to the test directory's log. */
function refusals(): string[] {
  const log = join(dir.path, 'data', 'state', 'omnishd.log');
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('omnishd cannot serve'));
}

/** CPU time (user + system) a process has used so far, in clock ticks (1/100 s). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat(5))
}

function runOmnishd(args: string[]): { status: number | null; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [OMNISHD, ...args], { env: testEnv(dir.path, badEnv()), encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stderr: r.stderr, ms: Date.now() - t0 };
}

describe('a daemon that cannot serve', () => {
  it('--foreground prints why on one line and exits 1 at once (and logs it)', () => {
    const r = runOmnishd(['--foreground']);
    expect(r.status).toBe(1); // null: killed by the timeout, i.e. it never stopped
    expect(r.stderr).toBe(`omnishd: cannot start: cannot create directory ${join(BAD_SOCKET, '..')}: no such file or directory (ENOENT)\n`);
    expect(refusals()).toHaveLength(1);
    expect(refusals()[0]).toContain('cannot create directory');
    expect(badDaemons()).toEqual([]);
  });

  it('`omnishd` (start in the background) reports the reason the daemon gave, without waiting out its deadline', () => {
    const r = runOmnishd([]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`omnishd: could not start: cannot create directory ${join(BAD_SOCKET, '..')}: no such file or directory (ENOENT)\n`);
    expect(r.ms).toBeLessThan(4000); // the start deadline is 5 s
    expect(badDaemons()).toEqual([]);
  });

  it('a client autostarts it a few times, backs off, gives up quietly, and nothing lingers or burns CPU', { timeout: 60_000 }, async () => {
    const t = dir.omnish({ env: badEnv() });
    try {
      await t.waitFor('PROMPT$ ');
      expect(await runIn(t, 'echo ok-$((20+22))')).toContain('ok-42');
      // The recorder asks for a daemon every 5 s; spawnDaemon starts one for the first
      // MAX_FAILED_SPAWNS of them (with a growing delay between) and then no more.
      await waitUntil(() => refusals().length >= MAX_FAILED_SPAWNS, `${MAX_FAILED_SPAWNS} failed daemon starts`, 40_000);
      await waitUntil(() => badDaemons().length === 0, 'the failed daemons to be gone', 5000);
      // Nothing more may happen from here on: watch for longer than the recorder's 5 s autostart
      // interval plus the largest back-off (a window, not a wait for a condition).
      const before = cpuTicks(t.pid);
      const seen = new Set<number>();
      const until = Date.now() + 8000;
      while (Date.now() < until) {
        for (const pid of badDaemons()) seen.add(pid);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect([...seen]).toEqual([]);
      expect(refusals()).toHaveLength(MAX_FAILED_SPAWNS);
      // The client keeps trying to connect (cheap), but is idle: under 3 % of a core over the window.
      const ticks = cpuTicks(t.pid) - before;
      expect(ticks, `client CPU over 8 s: ${ticks} ticks of 10 ms`).toBeLessThan(25);
      // The terminal still works and nothing of omnish's own was printed into it.
      expect(await runIn(t, 'echo still-$((40+2))')).toContain('still-42');
      expect(t.text()).not.toMatch(/omnish(d)?:/);
    } finally {
      for (const pid of badDaemons()) process.kill(pid, 'SIGKILL');
    }
  });
});
