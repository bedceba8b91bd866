/**
 * bash integration against what real users' rc files do: PROMPT_COMMAND strings and arrays,
 * `set -u`, their own DEBUG trap, prompt frameworks, history settings, login and non-login
 * starts, bash's own startup flags. Real bash in a real pty, rc files in a private HOME.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { commandOutput, kinds, lastPromptText, markAt, start, stopAll } from './testing.js';

afterEach(stopAll);

const PS1 = "PS1='[$?] \\$ '\n";

describe('bash: PROMPT_COMMAND', () => {
  it('as a string: runs after D, sees the status in $?, prints before A', async () => {
    const s = start('bash', { rc: `${PS1}PROMPT_COMMAND='printf "<pc:%s>" "$?"'\n` });
    await s.prompt();
    const since = s.length;
    await s.run('false');
    const pc = s.text().indexOf('<pc:1>', since);
    expect(pc).toBeGreaterThan(markAt(s, 'D', since));
    expect(pc).toBeLessThan(markAt(s, 'A', since));
    expect(await commandOutput(s, 'echo "$PROMPT_COMMAND"')).toContain('printf "<pc:%s>" "$?"');
  });

  it('as an array (bash 5.1+): every element runs, and it stays an array', async () => {
    const s = start('bash', { rc: `${PS1}PROMPT_COMMAND=('printf "<pc1:%s>" "$?"' 'printf "<pc2>"')\n` });
    await s.prompt();
    const since = s.length;
    expect(await s.run('false')).toContainEqual({ kind: 'D', exit: '1' });
    expect(s.text(since)).toContain('<pc1:1><pc2>');
    expect(await commandOutput(s, 'declare -p PROMPT_COMMAND')).toMatch(/^declare -a PROMPT_COMMAND=/);
  });

  it('an entry appended at the prompt, making it an array, runs between ours', async () => {
    const s = start('bash', { rc: `${PS1}PROMPT_COMMAND='printf "<pc>"'\n` });
    await s.prompt();
    await s.run(`PROMPT_COMMAND+=('printf "<late>"')`);
    // At this prompt the new entry ran after our tail. PS0 marks the next command line all the
    // same (the DEBUG trap, used where PS0 cannot mark a line, would have skipped it rather than
    // take the entry's commands for its own).
    expect(kinds(await s.run('true'))).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
    const since = s.length;
    expect(kinds(await s.run('false'))).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
    const late = s.text().indexOf('<pc><late>', since);
    expect(late).toBeGreaterThan(markAt(s, 'D', since));
    expect(late).toBeLessThan(markAt(s, 'A', since));
  });

  it('a framework rewriting PS1 at every prompt (starship-style) still gets A and B', async () => {
    const s = start('bash', { rc: `PROMPT_COMMAND='PS1="S[$?]> "'\n` });
    await s.prompt();
    expect(kinds(await s.run('false'))).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
    expect(lastPromptText(s)).toBe('S[1]> ');
  });

  it('PS1 sees $? and PIPESTATUS of the command', async () => {
    const s = start('bash', { rc: "PS1='[$?|${PIPESTATUS[*]}] \\$ '\n" });
    await s.prompt();
    await s.run('false | true');
    expect(lastPromptText(s)).toBe(`[0|1 0] ${process.getuid?.() === 0 ? '#' : '$'} `);
  });
});

describe('bash: the user rc', () => {
  it('survives `set -u`', async () => {
    const s = start('bash', { rc: `set -u\n${PS1}` });
    await s.prompt();
    expect(await s.run('false')).toContainEqual({ kind: 'D', exit: '1' });
    const since = s.length;
    s.write('echo partial\x03');
    await s.prompt(since);
    await s.run('true');
    expect(await commandOutput(s, 'echo "[$-]"')).toMatch(/\[\S*u\S*\]/);
    expect(s.text()).not.toMatch(/unbound variable/);
  });

  it("keeps the user's DEBUG trap running, with their $?, and hides our hooks from it", async () => {
    const s = start('bash', { rc: `${PS1}trap 'printf "<dbg:%s:%s>" "$BASH_COMMAND" "$?"' DEBUG\n` });
    await s.prompt();
    // (At startup, the trap also sees the two commands of init.bash that read it.)
    const afterStartup = s.length;
    await s.run('false');
    const since = s.length;
    expect(await s.run('echo hi')).toContainEqual({ kind: 'E', cmd: 'echo hi' });
    expect(s.text(since)).toContain('<dbg:echo hi:1>');
    expect(s.text(afterStartup)).not.toContain('__omnish');
  });

  it('chains a DEBUG trap set at the prompt after startup', async () => {
    const s = start('bash', { rc: PS1 });
    await s.prompt();
    await s.run(`trap 'printf "<late:%s>" "$BASH_COMMAND"' DEBUG`);
    const since = s.length;
    const marks = await s.run('echo hi');
    expect(kinds(marks)).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
    expect(s.text(since)).toContain('<late:echo hi>');
  });

  it('re-sourcing ~/.bashrc does not duplicate marks', async () => {
    const s = start('bash', { rc: `${PS1}PROMPT_COMMAND="printf '<pc>'\${PROMPT_COMMAND:+;$PROMPT_COMMAND}"\n` });
    await s.prompt();
    await s.run('source ~/.bashrc');
    await s.run('source ~/.bashrc');
    const since = s.length;
    expect(kinds(await s.run('false'))).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
    expect(s.placed(since).find((p) => p.mark.kind === 'D')?.mark).toEqual({ kind: 'D', exit: '1' });
  });

  it('keeps user aliases working, and out of its own functions', async () => {
    const aliases = "alias local='echo BROKEN' history='echo BROKEN' printf='echo BROKEN' ll='echo LL-ALIAS'\n";
    const s = start('bash', { rc: `${PS1}${aliases}` });
    await s.prompt();
    expect(await s.run('echo a; echo b')).toContainEqual({ kind: 'E', cmd: 'echo a\\x3b echo b' });
    expect(s.text()).not.toContain('BROKEN');
    expect(await commandOutput(s, 'll')).toBe('LL-ALIAS\n');
  });

  it('a `bind -x` widget is not taken for a command line', async () => {
    const s = start('bash', { rc: `${PS1}bind -x '"\\C-t": printf "<widget>"'\n` });
    await s.prompt();
    const since = s.length;
    s.write('\x14');
    await s.waitText((t) => t.includes('<widget>'), 'the widget output', since);
    const marks = await s.run('true');
    expect(marks.filter((m) => m.kind === 'E')).toEqual([{ kind: 'E', cmd: 'true' }]);
  });
});

describe('bash: PS0 (bash 4.4+) marks where each command line starts', () => {
  it("keeps the user's PS0: theirs is printed first, then E and C; PS0 stays theirs with ours at the end", async () => {
    const s = start('bash', { rc: `${PS1}PS0='<ps0:\\#>'\n` });
    await s.prompt();
    const since = s.length;
    expect(kinds(await s.run('(false)'))).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
    const ps0 = s.text().indexOf('<ps0:', since);
    expect(ps0).toBeGreaterThan(since);
    expect(ps0).toBeLessThan(markAt(s, 'E', since));
    expect(await commandOutput(s, 'printf "%s\\n" "${PS0%%\\$*}"')).toBe('<ps0:\\#>\n');
  });

  it('works under `set -u`, with a user DEBUG trap, and with PROMPT_COMMAND as an array', async () => {
    const rc = `set -u\n${PS1}trap ': "$BASH_COMMAND"' DEBUG\nPROMPT_COMMAND=('printf "<pc1>"' 'printf "<pc2>"')\n`;
    const s = start('bash', { rc });
    await s.prompt();
    const since = s.length;
    expect(await s.run('(echo SUB; false)')).toEqual(expect.arrayContaining([{ kind: 'E', cmd: '(echo SUB\\x3b false)' }, { kind: 'D', exit: '1' }]));
    expect(s.text(since)).toContain('<pc1><pc2>');
    expect(s.text()).not.toMatch(/unbound variable/);
  });

  it('with promptvars off, falls back to the DEBUG trap and literal marks, and PS1 is not exported', async () => {
    const s = start('bash', { rc: `export PS1='[$?] \\$ '\nshopt -u promptvars\n` });
    await s.prompt();
    expect(kinds(await s.run('false'))).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
    expect(await commandOutput(s, 'env | grep -c "^PS1=" | sed "s/^/n=/"')).toBe('n=0\n');
  });

  it('under `set -a` and with PS1 exported, no program gets the nonce in its environment', async () => {
    const s = start('bash', { rc: `set -a\nexport PS1='[$?] \\$ '\n` });
    await s.prompt();
    await s.run('true');
    const env = await commandOutput(s, 'env');
    expect(env).toContain('PS1=');
    expect(env).not.toContain(s.nonce);
  });
});

describe('bash: history', () => {
  it('the history file gets the commands as usual, and nothing of ours', async () => {
    const s = start('bash', { rc: `${PS1}HISTFILE=~/myhist\n` });
    await s.prompt();
    await s.run('echo one');
    await s.run('echo two | cat');
    s.write('exit\r');
    await s.exited();
    expect(readFileSync(`${s.home.path}/myhist`, 'utf8')).toBe('echo one\necho two | cat\nexit\n');
  });

  it('HISTFILE defaults to ~/.bash_history (not posix mode’s ~/.sh_history)', async () => {
    const s = start('bash', { rc: PS1 });
    await s.prompt();
    expect(await commandOutput(s, 'echo "$HISTFILE"')).toBe(`${s.home.path}/.bash_history\n`);
  });

  it('E has the typed line, also with HISTTIMEFORMAT, ignorespace and ignoredups', async () => {
    const s = start('bash', { rc: `${PS1}HISTTIMEFORMAT='%F %T '\nHISTCONTROL=ignoreboth\n` });
    await s.prompt();
    expect(await s.run('echo a; echo b')).toContainEqual({ kind: 'E', cmd: 'echo a\\x3b echo b' });
    // Left out of history (ignoredups): the last entry is the same line.
    expect(await s.run('echo a; echo b')).toContainEqual({ kind: 'E', cmd: 'echo a\\x3b echo b' });
    // Left out of history (ignorespace): the current simple command, not the previous entry.
    expect(await s.run(' echo secret')).toContainEqual({ kind: 'E', cmd: 'echo secret' });
  });
});

describe('bash: startup files and flags', () => {
  const files = {
    '.bash_profile': `echo PROFILE-READ\n${PS1}`,
    '.bashrc': `echo BASHRC-READ\n${PS1}`,
  };

  it('a login shell (-l) reads ~/.bash_profile, not ~/.bashrc', async () => {
    const s = start('bash', { files, args: ['-l'] });
    await s.prompt();
    expect(s.text()).toContain('PROFILE-READ');
    expect(s.text()).not.toContain('BASHRC-READ');
    expect(await commandOutput(s, 'shopt -q login_shell && echo IS-LOGIN')).toBe('IS-LOGIN\n');
  });

  it('a login shell falls back to ~/.profile', async () => {
    const s = start('bash', { rc: PS1, files: { '.profile': `echo DOT-PROFILE-READ\n${PS1}` }, args: ['-l'] });
    await s.prompt();
    expect(s.text()).toContain('DOT-PROFILE-READ');
  });

  it('an interactive non-login shell reads ~/.bashrc and leaves posix mode', async () => {
    const s = start('bash', { files });
    await s.prompt();
    expect(s.text()).toContain('BASHRC-READ');
    expect(s.text()).not.toContain('PROFILE-READ');
    expect(await commandOutput(s, 'shopt -q login_shell || echo NOT-LOGIN')).toBe('NOT-LOGIN\n');
    expect(await commandOutput(s, 'shopt -qo posix || shopt -q inherit_errexit || echo "PLAIN $MAILCHECK"')).toBe('PLAIN 60\n');
  });

  it('honours --norc, and --noprofile for a login shell', async () => {
    const norc = start('bash', { files, args: ['--norc'] });
    expect(await norc.prompt()).toContainEqual({ kind: 'B' });
    expect(norc.text()).not.toContain('BASHRC-READ');
    const noprofile = start('bash', { files, args: ['--noprofile', '-l'] });
    expect(await noprofile.prompt()).toContainEqual({ kind: 'B' });
    expect(noprofile.text()).not.toMatch(/PROFILE-READ|BASHRC-READ/);
  });

  it('honours --rcfile FILE', async () => {
    const s = start('bash', { files: { ...files, 'other.rc': `echo OTHER-RC-READ\n${PS1}` }, args: ['--rcfile', 'other.rc'] });
    await s.prompt();
    expect(s.text()).toContain('OTHER-RC-READ');
    expect(s.text()).not.toContain('BASHRC-READ');
  });

  it('gives programs the user’s ENV back, or none', async () => {
    const withEnv = start('bash', { rc: PS1, env: { ENV: '/nowhere/shrc' } });
    await withEnv.prompt();
    expect(await commandOutput(withEnv, 'echo "[${ENV-unset}]"; printenv ENV')).toBe('[/nowhere/shrc]\n/nowhere/shrc\n');
    const without = start('bash', { rc: PS1 });
    await without.prompt();
    expect(await commandOutput(without, 'echo "[${ENV-unset}]"')).toBe('[unset]\n');
  });

  it('honours --posix: stays in posix mode and reads only $ENV', async () => {
    const s = start('bash', { files: { ...files, 'shrc': `echo SHRC-READ\n${PS1}` }, args: ['--posix'], env: { ENV: 'shrc' } });
    await s.prompt();
    expect(s.text()).toContain('SHRC-READ');
    expect(s.text()).not.toContain('BASHRC-READ');
    expect(await commandOutput(s, 'shopt -qo posix && echo POSIX-ON')).toBe('POSIX-ON\n');
  });
});
