import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../common/errors.js';
import { SessionStore, type CommandRecord } from '../store/index.js';
import { runCommand } from './cli.js';
import { commandDuration, listCommands, pickSession } from './commands.js';
import type { CommandIo } from './io.js';

let tmp: string;
let store: SessionStore;
let output: string;
let testIo: CommandIo;

function capture(): CommandIo & { text: () => string } {
  let text = '';
  return {
    out: (s) => void (text += s), err: (s) => void (text += s), raw: (b) => void (text += b.toString()),
    isTTY: false, atPrompt: false, setExitCode: () => undefined, text: () => text,
  };
}

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-cmds-'));
  store = new SessionStore(join(tmp, 'sessions'));
  output = '';
  testIo = { ...capture(), out: (s) => void (output += s) };
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(tmp, { recursive: true, force: true });
});

const record = (seq: number, over: Partial<CommandRecord> = {}): CommandRecord => ({
  type: 'command', seq, command: `cmd${seq}`, cwd: '/srv', startedAtUs: 1_000_000, endedAtUs: 1_400_000, exitCode: 0,
  outputStart: 0, outputEnd: 0, altScreen: false, ...over,
});

/** A stored, ended session with `records` in its events.jsonl (and an unrelated event line). */
function session(id: string, startedAt: string, records: CommandRecord[] = []): void {
  const h = store.create({ id, hostname: 'box', pid: 2, clientPid: 1, tty: '', shell: '/bin/bash', cwd: '/', term: '', cols: 80, rows: 24, startedAt });
  for (const r of records) {
    h.appendEvent(r);
    h.appendEvent({ type: 'event', kind: 'nonzero-exit', seq: r.seq, tUs: r.endedAtUs });
  }
  h.end(0, null, 'exit');
}

describe('omnish commands', () => {
  it('prints a table: seq, exit, duration, tildified cwd, first line of the command', () => {
    vi.stubEnv('HOME', '/home/u');
    session('aaaaaa111111', '2026-11-21T10:00:00Z', [
      record(1, { command: 'make', cwd: '/home/u/src', exitCode: 2 }),
      record(2, { command: 'for x in 1 2\ndo echo $x\ndone', endedAtUs: 76_000_000, exitCode: null }),
      record(3, { command: null, cwd: null }),
    ]);
    listCommands(testIo, 'aaaa', {}, store);
    expect(output).toBe(
      'SEQ  EXIT  DURATION  CWD    COMMAND\n' +
        '1    2     0.4s      ~/src  make\n' +
        '2    -     1m15s     /srv   for x in 1 2 …\n' +
        '3    0     0.4s      ?      ?\n',
    );
  });

  it('prints the records as JSON', () => {
    const records = [record(1), record(2, { exitCode: 1 })];
    session('aaaaaa111111', '2026-11-21T10:00:00Z', records);
    listCommands(testIo, 'aaaaaa111111', { json: true }, store);
    expect(JSON.parse(output)).toEqual(records);
  });

  it('says so when a session has no commands', () => {
    session('aaaaaa111111', '2026-11-21T10:00:00Z');
    listCommands(testIo, undefined, {}, store);
    expect(output).toMatch(/^No commands recorded in session aaaaaa111111/);
  });

  it('defaults to $OMNISH_SESSION, else the newest session', () => {
    session('aaaaaa111111', '2026-11-21T10:00:00Z');
    session('bbbbbb222222', '2026-11-21T11:00:00Z');
    expect(pickSession(store, undefined, {}).id).toBe('bbbbbb222222');
    expect(pickSession(store, undefined, { OMNISH_SESSION: 'aaaaaa111111' }).id).toBe('aaaaaa111111');
    expect(pickSession(store, undefined, { OMNISH_SESSION: 'cccccc333333' }).id).toBe('bbbbbb222222');
    expect(() => pickSession(new SessionStore(join(tmp, 'none')), undefined, {})).toThrow(/no sessions recorded yet/);
  });

  it('rejects an unknown or ambiguous id with one line and exit status 2', async () => {
    session('aaaaaa111111', '2026-11-21T10:00:00Z');
    session('aaaaaa222222', '2026-11-21T11:00:00Z');
    expect(() => listCommands(testIo, 'ffff', {}, store)).toThrow(UsageError);
    expect(() => listCommands(testIo, 'aaaaaa', {}, store)).toThrow(/ambiguous/);
    vi.stubEnv('OMNISH_DATA_DIR', tmp);
    const io = capture();
    expect(await runCommand(['commands', 'ffff'], io)).toBe(2);
    expect(io.text()).toBe("omnish: no session matches 'ffff'\n");
  });
});

describe('helpers', () => {
  it('formats durations in µs', () => {
    expect([0, 420_000, 12_400_000, 185_000_000, 7_440_000_000].map(commandDuration)).toEqual(['0.0s', '0.4s', '12s', '3m05s', '2h04m']);
  });
});
