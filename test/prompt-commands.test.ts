/**
 * The special commands at the prompt, in a real pty: ::pause / ::resume, ::status, ::sessions,
 * ::replay in place, and bad input (one clear line, the session goes on).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStream, RecordKind, SessionStore, STREAM_FILE } from '../src/store/index.js';
import { omnish as omnishCli, sessions } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { idlePrompt, PROMPT_READY, runIn, waitUntil, type Term } from './helpers/term.js';

const dir = useTestDir();

async function start(): Promise<Term> {
  const t = dir.omnish({ args: [] });
  await t.waitFor(PROMPT_READY);
  await runIn(t, 'true');
  await waitUntil(() => sessions(dir.path).length === 1, 'the session to register');
  return t;
}

/** Types a `::` line at a ready prompt and returns what it printed up to the next prompt. */
async function atPrompt(t: Term, line: string): Promise<string> {
  await idlePrompt(t);
  const since = t.mark();
  t.write(`${line}\r`);
  const out = await t.waitFor(PROMPT_READY, { since: since + line.length });
  return out;
}

describe('special commands at the prompt', () => {
  it('::pause stops recording until ::resume, which records a gap; ::resume when not paused is refused', async () => {
    const t = await start();
    expect(await atPrompt(t, '::resume')).toMatch(/this session is not paused/);
    expect(await atPrompt(t, '::pause')).toMatch(/recording paused/);
    expect(await atPrompt(t, '::status')).toMatch(/recording paused/);
    await runIn(t, 'echo secret-$((20+1))');
    expect(await atPrompt(t, '::pause')).toMatch(/already paused/);
    expect(await atPrompt(t, '::resume')).toMatch(/recording again/);
    await runIn(t, 'echo visible-$((30+1))');
    t.write('exit\r');
    await t.waitExit();
    const id = sessions(dir.path)[0]!.id;
    await waitUntil(() => sessions(dir.path)[0]!.endedAt, 'the session to end');
    const replayed = omnishCli(dir.path, ['replay', id]).stdout;
    expect(replayed).not.toContain('secret-21');
    expect(replayed).toContain('visible-31');
    const stored = new SessionStore(join(dir.path, 'data', 'sessions')).resolve(id);
    const gaps = [...readStream(join(stored.dir, STREAM_FILE))].filter((r) => r.kind === RecordKind.Gap);
    expect(gaps).toEqual([expect.objectContaining({ reason: 'paused by the user (::pause)' })]);
  });

  it('::status shows the daemon, the store, the backend and this session', async () => {
    const t = await start();
    const out = await atPrompt(t, '::status');
    expect(out).toMatch(/omnishd \S+ running \(pid \d+, up \d+s\)/);
    expect(out).toMatch(/store: 1 session, [\d.]+ MB/);
    expect(out).toMatch(/default LLM backend: /);
    const relay = process.env.OMNISH_RELAY === 'js' ? 'js \\(OMNISH_RELAY=js\\)' : 'native';
    expect(out).toMatch(new RegExp(`this session: [0-9a-f]{12}, shell integration: bash, relay: ${relay}, recording`));
  });

  it('::sessions lists this session with its tty, cwd and last command', async () => {
    const t = await start();
    await runIn(t, 'cd /tmp');
    const out = await atPrompt(t, '::sessions');
    expect(out).toMatch(/active/);
    expect(out).toMatch(/\/tmp/);
    expect(out).toMatch(/cd \/tmp|printf/);
  });

  it('::replay plays in place on the alternate screen; q returns to the prompt', async () => {
    const t = await start();
    await runIn(t, 'echo replayed-$((5+5))');
    const id = sessions(dir.path)[0]!.id;
    await idlePrompt(t);
    const since = t.mark();
    t.write(`::replay ${id} --idle-limit 0.01\r`);
    await t.waitFor('\x1b[?1049h', { since });
    await t.waitFor('replayed-10', { since });
    t.write('q');
    await t.waitFor('\x1b[?1049l', { since });
    expect(await runIn(t, 'echo after-$((1+1))')).toContain('after-2');
  });

  it('bad input at the prompt: one clear line, and the shell goes on', async () => {
    const t = await start();
    expect(await atPrompt(t, '::nosuchcommand')).toMatch(/unknown command 'nosuchcommand'/);
    expect(await atPrompt(t, '::replay ffffffffffff9')).toMatch(/no session matches/);
    expect(await runIn(t, 'echo fine-$((2+2))')).toContain('fine-4');
  });
});
