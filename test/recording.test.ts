/**
 * Every terminal session lands on disk through omnishd: byte for byte, whether the daemon was there
 * from the start or came later; and `omnish sessions` / `omnish replay` show it. A daemon killed,
 * stopped or raced under a session: test/faults.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDir } from './helpers/fixture.js';
import { daemonPids, omnish, omnishBytes, sessions, startDaemon, waitDaemon } from './helpers/daemon.js';
import { ready, runIn, Term, waitUntil } from './helpers/term.js';

const dir = useTestDir();

function shell(env: Record<string, string> = {}): Term {
  return dir.omnish({ env });
}

/** The id of the one session recorded in the test directory. */
async function onlySessionId(): Promise<string> {
  return waitUntil(() => {
    const list = sessions(dir.path);
    return list.length === 1 ? list[0]!.id : undefined;
  }, 'one recorded session');
}

describe('recording', () => {
  it("stores a session's output byte for byte, and replay gives it back", async () => {
    const t = shell();
    // Typed before omnish has the terminal in raw mode, a line would be echoed by the terminal
    // itself, not by the shell: wait for the prompt so the terminal shows only what the shell wrote.
    await t.waitFor('PROMPT$ ');
    await ready(t);
    const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    writeFileSync(join(dir.path, 'bytes.bin'), payload);
    await runIn(t, `stty raw -echo; cat ${join(dir.path, 'bytes.bin')}; stty sane; printf '\\033[31mred\\033[0m\\n'`);
    t.write('exit 5\r');
    expect((await t.waitExit()).exitCode).toBe(5);
    const id = await onlySessionId();
    const [meta] = await waitUntil(() => {
      const list = sessions(dir.path);
      return list[0]?.endedAt ? list : undefined;
    }, 'the session to end');
    expect(meta).toMatchObject({ id, active: false, exitCode: 5, shell: '/bin/bash', cwd: expect.any(String), hostname: expect.any(String) });
    // Replay into a pipe writes the recorded output at once: it must be what the terminal got.
    const replayed = omnishBytes(dir.path, ['replay', id.slice(0, 4)]);
    expect(replayed.length).toBe(t.bytes().length);
    expect(Buffer.compare(replayed, t.bytes())).toBe(0);
  });

  it('works as a plain relay with no daemon, then records once one starts', async () => {
    writeFileSync(join(dir.path, 'config.toml'), '[daemon]\nautostart = false\n');
    const t = shell();
    expect(await runIn(t, 'echo before-$((1+1))')).toContain('before-2');
    expect(daemonPids(dir.path)).toEqual([]);
    expect(t.text()).not.toMatch(/omnish:/);
    startDaemon(dir.path);
    await waitDaemon(dir.path);
    const id = await onlySessionId();
    expect(await runIn(t, 'echo after-$((2+2))')).toContain('after-4');
    t.write('exit\r');
    await t.waitExit();
    await waitUntil(() => sessions(dir.path)[0]?.endedAt, 'the session to end');
    const replayed = omnishBytes(dir.path, ['replay', id]).toString('latin1');
    // Output from before the daemon existed was held (within the cap) and delivered late.
    expect(replayed).toContain('before-2');
    expect(replayed).toContain('after-4');
  });

  it('lists live and ended sessions and replays a live one', async () => {
    const t = shell();
    await runIn(t, 'echo live-$((3+3))');
    await waitDaemon(dir.path);
    const id = await onlySessionId();
    const live = sessions(dir.path)[0]!;
    expect(live).toMatchObject({ id, active: true, endedAt: null, exitCode: null });
    expect(omnish(dir.path, ['sessions']).stdout).toMatch(new RegExp(`${id}.*active`));
    await waitUntil(() => omnishBytes(dir.path, ['replay', id]).toString('latin1').includes('live-6'), 'live output on disk');
    const status = JSON.parse(omnish(dir.path, ['status', '--json']).stdout) as { daemon: Record<string, unknown>; sessions: Array<{ id: string }> };
    expect(status.daemon).toMatchObject({ pid: expect.any(Number), version: expect.any(String), uptimeS: expect.any(Number), socket: expect.stringContaining('omnish.sock') });
    expect(status.sessions.map((s) => s.id)).toEqual([id]);
    t.write('exit 2\r');
    await t.waitExit();
    await waitUntil(() => sessions(dir.path)[0]?.endedAt, 'the session to end');
    expect(sessions(dir.path)[0]).toMatchObject({ active: false, exitCode: 2 });
  });
});

describe('bad input', () => {
  it('replay of an unknown, ambiguous or malformed id: one line, non-zero exit', async () => {
    const a = shell();
    const b = shell();
    await Promise.all([ready(a), ready(b)]);
    await waitUntil(() => sessions(dir.path).length === 2, 'two sessions');
    const unknown = omnish(dir.path, ['replay', 'ffffffffffff0']);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/no session matches/);
    const notHex = omnish(dir.path, ['replay', 'xyz']);
    expect(notHex.status).not.toBe(0);
    expect(notHex.stderr).toMatch(/not a session id/);
    const ids = sessions(dir.path).map((s) => s.id);
    // Find a prefix shared by both ids, if any; otherwise the empty-prefix case must be refused too.
    let common = '';
    while (common.length < 12 && ids[0]![common.length] === ids[1]![common.length]) common += ids[0]![common.length];
    if (common.length > 0) {
      const ambiguous = omnish(dir.path, ['replay', common]);
      expect(ambiguous.status).not.toBe(0);
      expect(ambiguous.stderr).toContain(ids[0]!);
    }
    const badSpeed = omnish(dir.path, ['replay', ids[0]!, '--speed', 'fast']);
    expect(badSpeed.status).toBe(2);
    expect(badSpeed.stderr).toMatch(/--speed must be a positive number/);
  });
});
