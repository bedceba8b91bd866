/**
 * Retention end to end: real shells under omnish record sessions, `omnish gc` makes omnishd apply
 * tiny `[store]` limits, and `omnish sessions`, `omnish show` and `omnish replay` agree with what it
 * reports.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { size } from '../src/commands/gc.js';
import { useTestDir } from './helpers/fixture.js';
import { omnish, sessions } from './helpers/daemon.js';
import { ready, runIn, type Term, waitUntil } from './helpers/term.js';

const dir = useTestDir();

interface Report {
  freedBytes: number;
  evicted: Array<{ id: string; reason: string; bytes: number }>;
  trimmed: Array<{ id: string; bytes: number }>;
  totalBytesBefore: number;
  totalBytesAfter: number;
}

/** Bytes of a session's stream.bin on disk. */
function streamBytes(id: string): number {
  const root = join(dir.path, 'data', 'sessions');
  const name = readdirSync(root).find((n) => n.endsWith(`_${id}`));
  return name ? statSync(join(root, name, 'stream.bin')).size : 0;
}

/** Starts a shell, waits until it is recorded, and returns it with its session id. */
async function recorded(): Promise<{ t: Term; id: string }> {
  const known = new Set(sessions(dir.path).map((s) => s.id));
  const t = dir.omnish();
  await ready(t);
  const id = await waitUntil(() => sessions(dir.path).find((s) => !known.has(s.id))?.id, 'the new session');
  return { t, id };
}

/** Makes `t` print `bytes` x's and waits until they are on disk. */
async function print(t: Term, id: string, bytes: number): Promise<void> {
  const before = streamBytes(id);
  await runIn(t, `head -c ${bytes} /dev/zero | tr '\\0' x; echo`);
  await waitUntil(() => streamBytes(id) >= before + bytes, `${bytes} bytes of ${id} on disk`);
}

async function exit(t: Term, id: string): Promise<void> {
  t.write('exit\r');
  await t.waitExit();
  await waitUntil(() => sessions(dir.path).find((s) => s.id === id)?.endedAt, `${id} to end`);
}

function gc(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return omnish(dir.path, ['gc', ...args]);
}

describe('omnish gc', () => {
  it('evicts the sessions that ended first until the store fits max_total_mb, never the live one', async () => {
    writeFileSync(join(dir.path, 'config.toml'), '[store]\nmax_total_mb = 0.05\n'); // 52,428 bytes
    const ended: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { t, id } = await recorded();
      await print(t, id, 15_000);
      await exit(t, id);
      ended.push(id);
    }
    const live = await recorded();
    await print(live.t, live.id, 30_000);

    const dry = gc('--dry-run', '--json');
    expect(dry.stderr).toBe('');
    const plan = JSON.parse(dry.stdout) as Report;
    expect(plan.evicted.map((e) => [e.id, e.reason])).toEqual([[ended[0], 'total'], [ended[1], 'total']]);
    expect(sessions(dir.path)).toHaveLength(4);

    const run = gc();
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`freed ${size(plan.freedBytes)}: evicted 2 sessions (2 by size), trimmed 0`);
    const left = sessions(dir.path);
    expect(left.map((s) => s.id)).toEqual([live.id, ended[2]]);
    expect(left[0]).toMatchObject({ active: true });

    // The live session alone outgrows the limit: every ended session goes, the live one stays.
    await print(live.t, live.id, 30_000);
    const again = JSON.parse(gc('--json').stdout) as Report;
    expect(again.evicted.map((e) => e.id)).toEqual([ended[2]]);
    expect(again.totalBytesAfter).toBeGreaterThan(52_428);
    expect(sessions(dir.path).map((s) => [s.id, s.active])).toEqual([[live.id, true]]);
    expect(await runIn(live.t, 'echo still-$((1+1))')).toContain('still-2');
  });

  it('trims an ended session over max_session_mb; show prints what is left and says so', async () => {
    writeFileSync(join(dir.path, 'config.toml'), '[store]\nmax_session_mb = 0.02\n'); // 20,971 bytes
    const { t, id } = await recorded();
    await runIn(t, 'seq 1 20000');
    await runIn(t, 'echo done-$((1+1))');
    await exit(t, id);
    const commands = JSON.parse(omnish(dir.path, ['commands', id, '--json']).stdout) as Array<{ seq: number; command: string }>;
    const big = commands.find((c) => c.command.includes('seq 1 20000'));
    const last = commands.find((c) => c.command.includes('echo done'));
    expect(big && last).toBeTruthy();

    const report = JSON.parse(gc('--json').stdout) as Report;
    expect(report.evicted).toEqual([]);
    expect(report.trimmed.map((x) => x.id)).toEqual([id]);
    expect(streamBytes(id)).toBeLessThanOrEqual(20_971);
    expect(sessions(dir.path).map((s) => s.id)).toEqual([id]);

    const shown = omnish(dir.path, ['show', `${id}:${big?.seq}`]);
    expect(shown.status).toBe(0);
    expect(shown.stderr).toMatch(/KiB of command \d+'s output was trimmed \(session over \[store\] max_session_mb\); showing what is left/);
    const lines = shown.stdout.split('\n');
    expect(lines).toContain('19999'); // the tail is kept
    expect(lines).not.toContain('10000'); // the middle is gone
    // Commands after the cut still find their output.
    const done = omnish(dir.path, ['show', `${id}:${last?.seq}`]);
    expect(done.stdout).toContain('done-2');
    expect(done.stderr).toBe('');
    expect(omnish(dir.path, ['replay', id]).status).toBe(0);
  });
});
