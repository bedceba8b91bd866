/**
 * The relay is invisible: bytes, screens, signals, job control, resize and exit status behave as in
 * the plain shell. Every test runs the real omnish in a real pty around a real bash.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDir } from './helpers/fixture.js';
import { descendantPids, ready, runIn, type Spawned, startOmnish, Term, testEnv, waitUntil } from './helpers/term.js';

const dir = useTestDir();

function omnish(opts: Parameters<typeof startOmnish>[1] = {}): Term {
  return dir.omnish(opts);
}



describe('bytes reach the terminal unchanged', () => {
  it('passes every byte value 0-255 and invalid UTF-8 from a raw-mode program byte for byte', async () => {
    const t = omnish();
    await ready(t);
    const payload = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xe2, 0x82])]);
    const file = join(dir.path, 'bytes.bin');
    writeFileSync(file, payload);
    const since = t.mark();
    // The program puts the tty in raw mode, so the inner pty adds nothing; markers bracket the payload.
    t.write(`stty raw -echo; printf '<<%s' B; cat ${file}; printf '%s>>' E; stty sane\r`);
    await t.waitFor('E>>', { since });
    const out = t.bytes().subarray(since);
    const start = out.indexOf('<<B') + 3;
    const end = out.lastIndexOf('E>>');
    expect(Buffer.compare(out.subarray(start, end), payload)).toBe(0);
  });

  it('keeps a bare LF from a raw-mode program as LF (no carriage return added)', async () => {
    const t = omnish();
    await ready(t);
    const since = t.mark();
    t.write(`stty raw -echo; printf 'top\\nnext%s' '|'; stty sane\r`);
    const out = await t.waitFor('next|', { since });
    expect(out).toContain('top\nnext|');
    expect(out).not.toContain('top\r\nnext|');
  });

  it('delivers every typed byte, Ctrl-S and Ctrl-Q included, to a raw-mode program', async () => {
    const t = omnish();
    await ready(t);
    const since = t.mark();
    t.write(`stty raw -echo; printf 'GO%s' '!'; od -An -tx1 -N8 | tr -d ' \\n'; printf '|%s' DONE; stty sane\r`);
    await t.waitFor('GO!', { since });
    t.write(Buffer.from([0x13, 0x11, 0x03, 0x1a, 0x1b, 0x7f, 0x00, 0xe9]));
    const out = await t.waitFor('|DONE', { since });
    expect(out).toContain('1311031a1b7f00e9|DONE');
  });
});

describe('the shell behaves as without omnish', () => {
  it('starts the pty with the terminal size and follows resizes (stty size)', async () => {
    const t = omnish({ cols: 90, rows: 30 });
    await ready(t);
    expect(await runIn(t, 'stty size')).toContain('30 90');
    t.resize(120, 40);
    expect(await runIn(t, 'stty size')).toContain('40 120');
  });

  it("starts the pty with the user's termios: IUTF8 under a UTF-8 locale and the erase character", async () => {
    const t = new Term('/bin/sh', ['-c', `stty erase '^H' -iutf8; exec "${process.execPath}" "$0" --norc --noprofile`, join(import.meta.dirname, '..', 'bin', 'omnish.js')], {
      env: testEnv(dir.path),
    });
    dir.track(t);
    await ready(t);
    const out = await runIn(t, 'stty -a');
    expect(out).toMatch(/erase = \^H/);
    expect(out).toMatch(/(^|\s)iutf8/);
  });

  it('Ctrl-C interrupts sleep and the shell sees status 130', async () => {
    const t = omnish();
    await ready(t);
    t.write('sleep 30; echo AFTER$((1))\r');
    // A Ctrl-C typed before sleep is in the foreground would reach bash, not sleep.
    await waitUntil(() => descendantPids(t.pid, 'sleep 30').length > 0, 'sleep to start');
    const started = Date.now();
    t.write('\x03');
    const after = t.mark();
    t.write('echo status=$?\r');
    expect(await t.waitFor(/status=\d+/, { since: after })).toMatch(/status=130/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(t.text()).not.toContain('AFTER1');
  });

  it('Ctrl-Z stops a job and fg resumes it', async () => {
    const t = omnish();
    await ready(t);
    const since = t.mark();
    t.write("bash -c 'read -r line; echo got:$line'\r");
    // Suspend only once the job runs: a Ctrl-Z typed while bash itself is in the foreground is ignored.
    await waitUntil(() => descendantPids(t.pid, 'read -r line').length > 0, 'the job to start');
    t.write('\x1a');
    await t.waitFor(/Stopped/, { since });
    expect(await runIn(t, 'jobs')).toMatch(/Stopped/);
    const fgMark = t.mark();
    t.write('fg\r');
    await t.waitFor("bash -c 'read -r line; echo got:$line'", { since: fgMark });
    t.write('hello\r');
    await t.waitFor('got:hello', { since: fgMark });
  });

  it('exits with the shell exit status', async () => {
    const t = omnish();
    await ready(t);
    t.write('exit 7\r');
    expect(await t.waitExit()).toEqual<Spawned>({ exitCode: 7 });
  });

  it('restores the terminal settings on exit', async () => {
    const outer = new Term('/bin/bash', ['--norc', '--noprofile'], { env: testEnv(dir.path, { PS1: 'OUTER$ ' }) });
    dir.track(outer);
    await ready(outer);
    const before = await runIn(outer, 'stty -g');
    outer.write(`PS1='INNER$ ' "${process.execPath}" ${join(import.meta.dirname, '..', 'bin', 'omnish.js')} --norc --noprofile\r`);
    await ready(outer);
    const since = outer.mark();
    outer.write('exit\r');
    // Keystrokes typed before the outer prompt is back would go to the exiting inner shell.
    await outer.waitFor('OUTER$ ', { since });
    const after = await runIn(outer, 'stty -g');
    expect(after.trim()).toBe(before.trim());
  });
});


describe('[shell] strip_marks', () => {
  it('keeps our marks off the terminal while prompts are still tracked and `::` still works', async () => {
    writeFileSync(join(dir.path, 'config.toml'), '[shell]\nstrip_marks = true\n');
    const t = omnish();
    await ready(t);
    expect(await runIn(t, 'echo HELLO$((1+1))')).toContain('HELLO2');
    const since = t.mark();
    t.write('::help\r');
    await t.waitFor('::replay', { since });
    await waitUntil(() => t.bytes().subarray(since).includes('PROMPT$ '), 'the prompt drawn again');
    expect(t.bytes().includes('omnish=')).toBe(false);
    expect(t.bytes().includes('\x1b]133;')).toBe(false);
  });
});
