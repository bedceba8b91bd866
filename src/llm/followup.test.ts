import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionStore, type CommandRecord } from '../store/index.js';
import { MAX_NEW_COMMANDS, NEW_OUTPUT_LINES, followUpMessage, pickHistory, type EarlierTurn } from './followup.js';

const START = Date.parse('2026-11-21T12:00:00Z');
const SECRET = 'ghp_0123456789abcdefABCDEF0123456789abcd';
let tmp: string;
let store: SessionStore;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-followup-'));
  store = new SessionStore(join(tmp, 'sessions'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A session `id` whose commands finish 10 s apart, the first 10 s after START (+1.5 s each). */
function record(id: string, cmds: Array<{ command: string; output: string; exit?: number }>): void {
  const h = store.create({ id, hostname: 'box', pid: 2, clientPid: 1, tty: '/dev/pts/1', shell: '/bin/bash', cwd: '/home/me', term: 'xterm', cols: 80, rows: 24,
    startedAt: new Date(START).toISOString() });
  let offset = 0;
  cmds.forEach((c, i) => {
    const t = (i + 1) * 10_000_000;
    const data = Buffer.from(c.output);
    const outputStart = offset;
    h.stream.output(t, data);
    offset += data.length;
    const rec: CommandRecord = { type: 'command', seq: i + 1, command: c.command, cwd: '/home/me', startedAtUs: t, endedAtUs: t + 1_500_000,
      exitCode: c.exit ?? 0, outputStart, outputEnd: offset, altScreen: false };
    h.appendEvent(rec);
  });
  h.end(0, null, 'exit');
}

/** When command `n` (1-based) finished, ms since the epoch. */
const finished = (n: number): number => START + n * 10_000 + 1500;

const turn = (role: EarlierTurn['role'], content: string): EarlierTurn => ({ role, content });

describe('pickHistory', () => {
  const turns = [turn('user', 'C'.repeat(1000)), turn('assistant', 'a1'), turn('user', 'q2'), turn('assistant', 'a2'), turn('user', 'q3'), turn('assistant', 'a3')];

  it('sends every turn when they fit', () => {
    expect(pickHistory(turns, 1000)).toEqual({ messages: turns, omitted: 0 });
  });

  it('keeps the first exchange (the context) and the newest later ones that fit', () => {
    expect(pickHistory(turns, 4)).toEqual({ messages: [turns[0], turns[1], turns[4], turns[5]], omitted: 1 });
    expect(pickHistory(turns, 0)).toEqual({ messages: turns.slice(0, 2), omitted: 2 });
  });

  it('drops a question left without an answer, so the turns alternate', () => {
    expect(pickHistory([...turns.slice(0, 2), turn('user', 'unanswered')], 1000).messages).toEqual(turns.slice(0, 2));
    expect(pickHistory([], 1000)).toEqual({ messages: [], omitted: 0 });
  });
});

describe('followUpMessage', () => {
  it('lists the commands that finished since, the newest with its output, redacted, then the question', async () => {
    record('aaaaaa000001', [
      { command: 'make', output: 'old output\r\n', exit: 2 },
      { command: `export GITHUB_TOKEN=${SECRET}`, output: '' },
      { command: 'make install', output: `${Array.from({ length: 30 }, (_, i) => `out ${i + 1}`).join('\r\n')}\r\n`, exit: 1 },
    ]);
    const m = await followUpMessage({ store, session: 'aaaaaa000001', sinceMs: finished(1), question: 'and now?', now: finished(3) + 60_000, omitted: 2 });
    expect(m.user).toMatch(/^\[… 2 earlier exchanges of this conversation not shown …\]\n\nSince the last answer, 2 commands ran/);
    expect(m.user).toContain('<terminal-session id="aaaaaa000001"');
    expect(m.user).not.toContain('$ make\n');
    expect(m.user).toContain('$ make install');
    expect(m.user).toContain('out 30');
    expect(m.user).not.toContain(`out ${30 - NEW_OUTPUT_LINES}\n`);
    expect(m.user).not.toContain(SECRET);
    expect(m.redactions.length).toBeGreaterThan(0);
    expect(m.commands).toBe(2);
    expect(m.user).toMatch(/<\/terminal-session>\n\nQuestion: and now\?$/);
  });

  it('says when nothing ran since, and lists at most the newest MAX_NEW_COMMANDS', async () => {
    record('aaaaaa000001', Array.from({ length: MAX_NEW_COMMANDS + 5 }, (_, i) => ({ command: `echo ${i + 1}`, output: `${i + 1}\r\n` })));
    const none = await followUpMessage({ store, session: 'aaaaaa000001', sinceMs: finished(MAX_NEW_COMMANDS + 5), question: 'q' });
    expect(none.user).toMatch(/^No commands ran in the session since the last answer\. Current time: .*\n\nQuestion: q$/);
    const many = await followUpMessage({ store, session: 'aaaaaa000001', sinceMs: 0, question: 'q' });
    expect(many.commands).toBe(MAX_NEW_COMMANDS + 5);
    expect(many.user).toContain('[… 5 earlier commands not shown …]');
    expect(many.user).not.toContain('$ echo 5\n');
    expect(many.user).toContain('$ echo 6\n');
  });

  it('without a session, or with one that is gone, sends the question alone', async () => {
    expect((await followUpMessage({ store, session: null, sinceMs: 0, question: 'q?' })).user).toBe('Question: q?');
    expect((await followUpMessage({ store, session: 'bbbbbb000002', sinceMs: 0, question: 'q?' })).user).toBe('Question: q?');
  });
});
