/**
 * Non-interactive and nested uses run the real shell without wrapping and without a word of
 * omnish's own; login shells are login shells; full-screen programs draw as in the plain shell.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDir } from './helpers/fixture.js';
import { OMNISH, ready, runIn, startOmnish, Term, testEnv } from './helpers/term.js';

const dir = useTestDir();

function track(t: Term): Term {
  return dir.track(t);
}


describe('non-interactive uses run the real shell directly', () => {
  it('omnish -c CMD runs CMD in the real shell, unwrapped, silently, with its exit status', () => {
    const r = spawnSync(process.execPath, [OMNISH, '-c', 'echo "shell=$0 wrapped=${OMNISH_SESSION:-no}"; exit 3'], {
      env: testEnv(dir.path),
      encoding: 'utf8',
    });
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('shell=/bin/bash wrapped=no\n');
    expect(r.stderr).toBe('');
  });

  it('piped stdin runs the real shell on the script it reads', () => {
    const r = spawnSync(process.execPath, [OMNISH], {
      env: testEnv(dir.path),
      input: 'echo "from pipe ${OMNISH_SESSION:-unwrapped}"\nexit 4\n',
      encoding: 'utf8',
    });
    expect(r.status).toBe(4);
    expect(r.stdout).toBe('from pipe unwrapped\n');
    expect(r.stderr).toBe('');
  });

  it('a script operand runs the script', () => {
    const script = join(dir.path, 'hello.sh');
    writeFileSync(script, 'echo "script $1"\n');
    const r = spawnSync(process.execPath, [OMNISH, script, 'arg'], { env: testEnv(dir.path), encoding: 'utf8' });
    expect(r.stdout).toBe('script arg\n');
    expect(r.status).toBe(0);
  });

  it('a nested omnish does not wrap again', async () => {
    const t = track(startOmnish(dir.path));
    const outerTty = (await runIn(t, 'tty')).trim();
    const outerSession = (await runIn(t, 'echo $OMNISH_SESSION')).trim();
    expect(outerSession).toMatch(/^[0-9a-f]{12}$/);
    t.write(`"${process.execPath}" ${OMNISH} --norc --noprofile\r`);
    // The nested shell runs on the same tty and inherits the same session: no second relay.
    await ready(t);
    expect((await runIn(t, 'tty')).trim()).toBe(outerTty);
    expect((await runIn(t, 'echo $OMNISH_SESSION')).trim()).toBe(outerSession);
    expect(await runIn(t, 'echo depth=$SHLVL')).toContain('depth=2');
  });

  it('SHELL pointing at omnish is not wrapped (no loop): the passwd shell or /bin/sh runs', async () => {
    const env = testEnv(dir.path, { SHELL: OMNISH });
    delete (env as Record<string, string | undefined>).OMNISH_SHELL;
    const t = track(new Term(process.execPath, [OMNISH], { env }));
    const out = await runIn(t, 'echo "shell=$0"');
    expect(out).toMatch(/shell=(\/bin\/bash|\/bin\/sh|\/usr\/bin\/bash|\/bin\/dash)/);
    t.write('exit\r');
    expect((await t.waitExit()).exitCode).toBe(0);
  });
});

describe('login shells', () => {
  it('omnish -l starts a login shell', async () => {
    const t = track(startOmnish(dir.path, { args: ['-l'] }));
    expect(await runIn(t, 'shopt -q login_shell && echo LOGIN=yes || echo LOGIN=no')).toContain('LOGIN=yes');
  });

  it('argv[0] starting with "-" starts a login shell', async () => {
    // What login(1) does: exec with argv[0] "-omnish".
    const t = track(new Term('/bin/bash', ['-c', `exec -a -omnish "${process.execPath}" "${OMNISH}"`], { env: testEnv(dir.path) }));
    expect(await runIn(t, 'shopt -q login_shell && echo LOGIN=yes || echo LOGIN=no')).toContain('LOGIN=yes');
  });

  it('without either, the shell is not a login shell', async () => {
    const t = track(startOmnish(dir.path, { args: [] }));
    expect(await runIn(t, 'shopt -q login_shell && echo LOGIN=yes || echo LOGIN=no')).toContain('LOGIN=no');
  });
});

describe('full-screen programs draw the same screen as in the plain shell', () => {
  const text = Array.from({ length: 60 }, (_, i) => `line ${i + 1} ${'é€ '.repeat(i % 5)}\t\x1b[1mbold\x1b[0m`).join('\n');

  /** Starts `cmd` and returns the screen once the program has drawn it completely. */
  async function screenOf(t: Term, cmd: string, done: (screen: string[]) => boolean): Promise<string[]> {
    await ready(t);
    t.write(`${cmd}\r`);
    return t.waitScreen(done, `${cmd} to draw its screen`);
  }

  // Drawn completely: the text from line 1 and the program's own status line at the bottom.
  const cases: Array<[string, string, (screen: string[]) => boolean, string]> = [
    ['vim', 'vim -u NONE -N -n -i NONE FILE', (s) => s[0]!.startsWith('line 1') && s[22]!.startsWith('line 23') && /60L/.test(s[23]!), ':q!\r'],
    ['less', 'less -R FILE', (s) => s[0]!.startsWith('line 1') && s[22]!.startsWith('line 23') && /text\.txt/.test(s[23]!), 'q'],
  ];
  for (const [name, cmd, done, quit] of cases) {
    it(name, async () => {
      const file = join(dir.path, 'text.txt');
      writeFileSync(file, text);
      const plain = track(new Term('/bin/bash', ['--norc', '--noprofile'], { env: testEnv(dir.path) }));
      const wrapped = track(startOmnish(dir.path));
      const a = await screenOf(plain, cmd.replace('FILE', file), done);
      const b = await screenOf(wrapped, cmd.replace('FILE', file), done);
      expect(b).toEqual(a);
      const since = wrapped.mark();
      wrapped.write(quit);
      // Type nothing more until the shell is back: the program would read it.
      await wrapped.waitFor('PROMPT$ ', { since });
      expect(await runIn(wrapped, 'echo back')).toContain('back');
    });
  }
});
