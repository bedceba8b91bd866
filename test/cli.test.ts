/**
 * The command line as a user meets it: --version, --help everywhere, init, and one clear line for
 * bad input.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands/index.js';
import { SessionStore } from '../src/store/index.js';
import { omnish } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { OMNISH, ROOT, Term, testEnv } from './helpers/term.js';

const dir = useTestDir();

describe('omnish CLI', () => {
  it('a reader that goes away ends the command quietly (exit 141, no stack trace)', async () => {
    // The pipe's read end is closed before omnish writes, so its first write gets EPIPE.
    const child = spawn(process.execPath, [OMNISH, 'search', '--help'], { env: testEnv(dir.path), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect(stderr).toBe('');
    expect(status).toBe(141);
  });

  it('--version prints the package version', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const r = omnish(dir.path, ['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('--help lists every command', () => {
    const r = omnish(dir.path, ['--help']);
    expect(r.status).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(c.name);
  });

  it.each(COMMANDS.map((c) => c.name))('omnish %s --help explains the command', (name) => {
    const r = omnish(dir.path, [name, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: omnish ${name}`));
    expect(r.stderr).toBe('');
  });

  it('init prints each shell integration script; an unknown shell is one line and exit 2', () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const r = omnish(dir.path, ['init', shell]);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('133;');
    }
    const bad = omnish(dir.path, ['init', 'tcsh']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an unknown command or option: one line, exit 2, no stack trace', () => {
    const unknown = omnish(dir.path, ['sesions']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'sesions'/);
    const option = omnish(dir.path, ['sessions', '--bogus']);
    expect(option.status).not.toBe(0);
    expect(option.stderr).toMatch(/unknown option '--bogus'/);
    expect(option.stderr).not.toMatch(/\s+at /);
  });

  it('replay on a terminal takes the keyboard raw: q ends a long pause at once, and the terminal is as before', async () => {
    const store = new SessionStore(join(dir.path, 'data', 'sessions'));
    const h = store.create({ id: 'abcdef123456', hostname: 'box', pid: 2, clientPid: 1, tty: '', shell: '/bin/bash', cwd: '/', term: '',
      cols: 80, rows: 24, startedAt: '2026-11-21T10:00:00Z' });
    h.stream.output(0, Buffer.from('first-output\r\n'));
    h.stream.output(600_000_000, Buffer.from('after-ten-minutes\r\n')); // µs
    h.end(0, null, 'exit', 600_000_001);
    const script = `stty -g > before; "${process.execPath}" "${OMNISH}" replay abcdef; echo "status=$?"; stty -g > after`;
    const t = dir.track(new Term('/bin/sh', ['-c', script], { env: testEnv(dir.path), cwd: dir.path }));
    await t.waitFor('first-output');
    t.write('q'); // no Enter: only a raw terminal hands it over alone
    await t.waitFor('status=0');
    await t.waitExit();
    expect(t.text()).not.toContain('after-ten-minutes');
    expect(readFileSync(join(dir.path, 'after'), 'utf8')).toBe(readFileSync(join(dir.path, 'before'), 'utf8'));
  });
});
