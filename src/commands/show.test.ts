import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../common/errors.js';
import { SessionStore, type CommandRecord } from '../store/index.js';
import { runCommand } from './cli.js';
import type { CommandIo } from './io.js';
import { parseCommandRef, showOutput } from './show.js';

const ID = 'abcdef123456';
let tmp: string;
let store: SessionStore;
let out: string;
let err: string;
let raw: Buffer[];

function io(): CommandIo {
  return {
    out: (s) => void (out += s), err: (s) => void (err += s), raw: (b) => void raw.push(b),
    isTTY: false, atPrompt: false, setExitCode: () => undefined,
  };
}

/**
 * A session whose stream holds a prompt, then `outputs` as commands 1, 2, … (each between marks,
 * as a shell with integration prints them); a resize to `resize` before the last command.
 */
function session(outputs: string[], resize?: { cols: number; rows: number }): void {
  const h = store.create({ id: ID, hostname: 'box', pid: 2, clientPid: 1, tty: '', shell: '/bin/bash', cwd: '/', term: '',
    cols: 80, rows: 24, startedAt: '2026-11-21T10:00:00Z' });
  let offset = 0;
  const write = (text: string): void => {
    const data = Buffer.from(text);
    h.stream.output(offset, data);
    offset += data.length;
  };
  outputs.forEach((text, i) => {
    if (resize && i === outputs.length - 1) h.stream.resize(offset, resize.cols, resize.rows);
    write(`$ cmd${i + 1}\r\n\x1b]133;C;omnish=n\x07`);
    const outputStart = offset;
    write(text);
    const record: CommandRecord = { type: 'command', seq: i + 1, command: `cmd${i + 1}`, cwd: '/', startedAtUs: offset,
      endedAtUs: offset, exitCode: 0, outputStart, outputEnd: offset, altScreen: text.includes('\x1b[?1049h') };
    write('\x1b]133;D;0;omnish=n\x07');
    h.appendEvent(record);
  });
  h.end(0, null, 'exit');
}

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-show-'));
  store = new SessionStore(join(tmp, 'sessions'));
  out = '';
  err = '';
  raw = [];
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(tmp, { recursive: true, force: true });
});

describe('omnish show', () => {
  it('collapses a \\r progress bar to its final state', async () => {
    session(['Downloading  10%\rDownloading  55%\rDownloading 100%\r\ndone\r\n\r\n']);
    await showOutput(io(), `${ID}:1`, {}, store);
    expect(out).toBe('Downloading 100%\ndone\n');
  });

  it('renders coloured output as plain text, and --raw writes the bytes', async () => {
    const colored = '\x1b[1;31merror\x1b[0m: \x1b[4mbad\x1b[24m thing   \r\n\x1b[32m✓\x1b[0m ok\r\n';
    session(['first\r\n', colored]);
    await showOutput(io(), 'abc:2', {}, store);
    expect(out).toBe('error: bad thing\n✓ ok\n');
    await showOutput(io(), 'abc:-1', { raw: true }, store);
    expect(Buffer.concat(raw).toString()).toBe(colored);
  });

  it('renders at the size the session had then', async () => {
    session(['a\r\n', '\x1b[999CX\r\n'], { cols: 40, rows: 10 });
    await showOutput(io(), `${ID}:2`, {}, store);
    expect(out).toBe(`${' '.repeat(39)}X\n`);
  });

  it('takes SEQ alone as this shell\'s session and notes a full-screen program', async () => {
    session(['one\r\n', '\x1b[?1049hvim screen\x1b[?1049l']);
    vi.stubEnv('OMNISH_SESSION', ID);
    await showOutput(io(), '1', {}, store);
    expect(out).toBe('one\n');
    await showOutput(io(), '2', {}, store);
    expect(out).toBe('one\n');
    expect(err).toMatch(/command 2 ran a full-screen program/);
  });

  it('rejects bad references, unknown commands and sessions', async () => {
    session(['x\r\n', 'y\r\n']);
    for (const bad of ['', 'abc', '1:2:3', '0', `${ID}:0`, `${ID}:x`, 'zz:1']) {
      expect(() => parseCommandRef(bad), bad).toThrow(UsageError);
    }
    expect(parseCommandRef('ab:-2')).toEqual({ id: 'ab', seq: -2 });
    expect(parseCommandRef('7')).toEqual({ seq: 7 });
    await expect(showOutput(io(), `${ID}:3`, {}, store)).rejects.toThrow(`session ${ID} has no command 3 (its commands are 1-2; see omnish commands ${ID})`);
    await expect(showOutput(io(), `${ID}:-3`, {}, store)).rejects.toThrow(UsageError);
    await expect(showOutput(io(), 'ffff:1', {}, store)).rejects.toThrow(/no session matches 'ffff'/);
    vi.stubEnv('OMNISH_DATA_DIR', tmp);
    let text = '';
    const status = await runCommand(['show', 'nope'], { ...io(), err: (s) => void (text += s) });
    expect(status).toBe(2);
    expect(text).toBe("omnish: 'nope' is not a command: expected ID:SEQ (e.g. a1b2:3), SEQ, or ID:-1 for the last one\n");
  });
});
