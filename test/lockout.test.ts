/**
 * Nobody is locked out: whatever breaks in omnish's own code or dependencies, `omnish` as a login
 * shell still ends in the real shell, with its arguments, login-ness and exit status; and once the
 * wrapped shell runs, a failure turns a feature off instead of starting a second shell.
 *
 * Every test breaks a private copy of the package (bin/, dist/, src/shell/, config/, package.json
 * and links to each dependency), never the shared tree.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDir } from './helpers/fixture.js';
import { descendantPids, OMNISH, ready, ROOT, runIn, Term, testEnv, waitUntil } from './helpers/term.js';

const dir = useTestDir();

/** Copies the package into the test directory, linking every dependency but those in `without`; returns its launcher. */
function packageCopy(without: string[] = []): string {
  const root = join(dir.path, 'pkg');
  for (const part of ['bin', 'dist', 'src/shell', 'config', 'package.json']) cpSync(join(ROOT, part), join(root, part), { recursive: true });
  mkdirSync(join(root, 'node_modules'));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name !== '.bin' && !without.includes(name)) symlinkSync(join(ROOT, 'node_modules', name), join(root, 'node_modules', name));
  }
  return join(root, 'bin', 'omnish.js');
}

/** Ways to break the built code before any shell runs. */
const breakages: Array<[string, (launcher: string) => void]> = [
  ['a syntax error in dist/client/main.js', (launcher) => appendFileSync(join(launcher, '..', '..', 'dist', 'client', 'main.js'), '\nexport const = ;\n')],
  ['dist/client/main.js missing', (launcher) => rmSync(join(launcher, '..', '..', 'dist', 'client', 'main.js'))],
];

const LOGIN = 'shopt -q login_shell && echo LOGIN=yes || echo LOGIN=no';

describe.each(breakages)('with %s, the real shell still runs', (_name, breakIt) => {
  function broken(): string {
    const launcher = packageCopy();
    breakIt(launcher);
    return launcher;
  }

  it('interactively, with one line saying why, and its exit status', async () => {
    const launcher = broken();
    const t = dir.track(new Term(process.execPath, [launcher, '--norc', '--noprofile'], { env: testEnv(dir.path) }));
    expect(await runIn(t, 'echo "shell=$0 sum=$((2+3))"')).toContain('shell=/bin/bash sum=5');
    expect(t.text().match(/omnish: cannot start \(.*\); starting the plain shell/g)).toHaveLength(1);
    expect(await runIn(t, LOGIN)).toContain('LOGIN=no');
    t.write('exit 6\r');
    expect(await t.waitExit()).toEqual({ exitCode: 6 });
  });

  it('-c CMD runs CMD silently with its exit status', () => {
    const r = spawnSync(process.execPath, [broken(), '-c', 'echo "ran $0 $1"; exit 3', 'arg0', 'one'], { env: testEnv(dir.path), encoding: 'utf8' });
    expect(r.stdout).toBe('ran arg0 one\n');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(3);
  });

  it('argv[0] "-omnish" (as login(1) starts it) gives a login shell', async () => {
    const launcher = broken();
    const t = dir.track(new Term('/bin/bash', ['-c', `exec -a -omnish "${process.execPath}" "${launcher}"`], { env: testEnv(dir.path) }));
    expect(await runIn(t, LOGIN)).toContain('LOGIN=yes');
    t.write('exit 5\r');
    expect(await t.waitExit()).toEqual({ exitCode: 5 });
  });

  it('-l gives a login shell', async () => {
    const launcher = broken();
    const t = dir.track(new Term(process.execPath, [launcher, '-l'], { env: testEnv(dir.path) }));
    expect(await runIn(t, LOGIN)).toContain('LOGIN=yes');
    t.write('exit 4\r');
    expect(await t.waitExit()).toEqual({ exitCode: 4 });
  });

  it('a CLI command does not need the shell\'s code: it still runs', () => {
    const r = spawnSync(process.execPath, [broken(), 'sessions'], { env: testEnv(dir.path), encoding: 'utf8', timeout: 10_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/No sessions recorded yet/);
    expect(r.status).toBe(0);
  });
});

/** Ways to break what a CLI command loads (the entry, or the command's own module). */
const cliBreakages: Array<[string, string]> = [
  ['a syntax error in dist/client/entry.js', join('dist', 'client', 'entry.js')],
  ['a syntax error in dist/commands/sessions.js', join('dist', 'commands', 'sessions.js')],
];

describe.each(cliBreakages)('with %s', (_name, file) => {
  it('a CLI command reports one line and fails; it starts no shell', () => {
    const launcher = packageCopy();
    appendFileSync(join(launcher, '..', '..', file), '\nexport const = ;\n');
    const r = spawnSync(process.execPath, [launcher, 'sessions'], { env: testEnv(dir.path), encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^omnish: cannot start \(.*\)\n$/);
  });
});

describe('a dependency that loads only after the shell is up (msgpackr) is missing', () => {
  it('exactly one shell runs, recording is off with one line, and the exit status is the shell\'s', async () => {
    const launcher = packageCopy(['msgpackr']);
    writeFileSync(join(dir.path, 'config.toml'), '');
    const t = dir.track(new Term(process.execPath, [launcher, '--norc', '--noprofile'], { env: testEnv(dir.path) }));
    await t.waitFor(/omnish: recording off: .*msgpackr/);
    await ready(t);
    const out = await runIn(t, 'echo "pid=$$"');
    expect(out.match(/pid=\d+/g)).toHaveLength(1);
    const pid = Number(/pid=(\d+)/.exec(out)![1]);
    expect(descendantPids(t.pid, 'bash')).toEqual([pid]);
    // Every prompt so far: the first one and one after each command line (ready, runIn); the
    // last may still be on its way when runIn has its output.
    await waitUntil(() => (t.text().match(/PROMPT\$ /g)?.length ?? 0) >= 3, 'the prompt after the command');
    expect(t.text().match(/PROMPT\$ /g)).toHaveLength(3);
    expect(t.text().match(/omnish: recording off/g)).toHaveLength(1);
    expect(t.text()).not.toMatch(/starting the plain shell/);
    t.write('exit 7\r');
    expect(await t.waitExit()).toEqual({ exitCode: 7 });
  });
});

describe('where Node has process.execve (>= 22.15), the shell replaces omnish', () => {
  /** Runs `launcher args` with a stand-in process.execve that reports its call instead of exec'ing. */
  function withExecve(launcher: string, args: string[], argv0?: string): { file: string; argv: string[]; sigpipeCaught: boolean } {
    const stub = join(dir.path, 'execve-stub.mjs');
    writeFileSync(
      stub,
      `process.execve = (file, argv) => {
        process.stdout.write(JSON.stringify({ file, argv, sigpipeCaught: process.listenerCount('SIGPIPE') > 0 }));
        process.exit(0);
      };\n`,
    );
    const node = ['--import', stub, launcher, ...args];
    // bash's `exec -a` sets argv[0] as login(1) does.
    const [file, argv] = argv0 ? ['/bin/bash', ['-c', 'exec -a "$0" "$@"', argv0, process.execPath, ...node]] : [process.execPath, node];
    const r = spawnSync(file, argv, { env: testEnv(dir.path), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as { file: string; argv: string[]; sigpipeCaught: boolean };
  }

  it('omnish -c CMD execs the real shell with the arguments', () => {
    expect(withExecve(OMNISH, ['-c', 'exit 3'])).toEqual({ file: '/bin/bash', argv: ['/bin/bash', '-c', 'exit 3'], sigpipeCaught: true });
  });

  it('the launcher fallback execs it too, as a login shell for argv[0] "-..."', () => {
    const launcher = packageCopy();
    rmSync(join(launcher, '..', '..', 'dist', 'client', 'main.js'));
    expect(withExecve(launcher, ['-c', 'exit 3'])).toEqual({ file: '/bin/bash', argv: ['/bin/bash', '-c', 'exit 3'], sigpipeCaught: true });
    expect(withExecve(launcher, [], '-omnish')).toEqual({ file: '/bin/bash', argv: ['-bash'], sigpipeCaught: true });
  });
});
