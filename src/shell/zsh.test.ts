/**
 * zsh integration against what real users' rc files do: precmd/preexec hooks that print or
 * rewrite the prompt (powerlevel10k-style), re-sourcing .zshrc, ZDOTDIR, login files, history.
 * Real zsh in a real pty, rc files in a private HOME.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { commandOutput, kinds, lastPromptText, markAt, start, stopAll } from './testing.js';

afterEach(stopAll);

const PS1 = "PS1='[%?] %# '\n";

describe('zsh: hooks and prompts', () => {
  it('a precmd hook rewriting PS1 at every prompt (powerlevel10k-style) still gets A and B, from the first prompt on', async () => {
    const s = start('zsh', { rc: `${PS1}rw() { PS1="Z[%?]> " }\nprecmd_functions+=(rw)\n` });
    await s.prompt();
    expect(lastPromptText(s)).toBe('Z[0]> ');
    expect(kinds(await s.run('false'))).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
    expect(lastPromptText(s)).toBe('Z[1]> ');
  });

  it('user hooks: precmd output comes after D and sees $?, preexec output comes before E and C', async () => {
    const rc = `${PS1}h() { print -n "<pre:$?>" }\npe() { print -n "<exec>" }\nprecmd_functions+=(h)\npreexec_functions+=(pe)\n`;
    const s = start('zsh', { rc });
    await s.prompt();
    const since = s.length;
    await s.run('false');
    const text = s.text();
    expect(text.indexOf('<exec>', since)).toBeLessThan(markAt(s, 'E', since));
    expect(text.indexOf('<pre:1>', since)).toBeGreaterThan(markAt(s, 'D', since));
    expect(text.indexOf('<pre:1>', since)).toBeLessThan(markAt(s, 'A', since));
  });

  it('re-sourcing ~/.zshrc does not duplicate marks', async () => {
    const s = start('zsh', { rc: `${PS1}h() { print -n "<h>" }\nprecmd_functions+=(h)\n` });
    await s.prompt();
    await s.run('source ~/.zshrc');
    await s.run('source ~/.zshrc');
    expect(kinds(await s.run('false'))).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
  });

  it('keeps user aliases working, and out of its own functions', async () => {
    const s = start('zsh', { rc: `${PS1}alias print='echo BROKEN'\nalias -g G='| grep'\nalias ll='echo LL-ALIAS'\n` });
    await s.prompt();
    expect(await s.run('false')).toContainEqual({ kind: 'D', exit: '1' });
    expect(s.text()).not.toContain('BROKEN');
    expect(await commandOutput(s, 'll')).toBe('LL-ALIAS\n');
  });
});

describe('zsh: startup files', () => {
  it('reads the user .zshenv and .zshrc from HOME, and leaves ZDOTDIR unset', async () => {
    const s = start('zsh', { rc: `echo ZSHRC-READ\n${PS1}`, files: { '.zshenv': 'echo ZSHENV-READ\n' } });
    await s.prompt();
    expect(s.text()).toMatch(/ZSHENV-READ[\s\S]*ZSHRC-READ/);
    expect(await commandOutput(s, 'echo "[${ZDOTDIR-unset}]"')).toBe('[unset]\n');
  });

  it('reads them from the user ZDOTDIR, and gives it back', async () => {
    const s = start('zsh', {
      rc: 'echo HOME-ZSHRC-READ\n',
      files: { 'zdot/.zshenv': 'echo ZDOT-ZSHENV-READ\n', 'zdot/.zshrc': `echo ZDOT-ZSHRC-READ\n${PS1}` },
      env: (home) => ({ ZDOTDIR: `${home}/zdot` }),
    });
    await s.prompt();
    expect(s.text()).toMatch(/ZDOT-ZSHENV-READ[\s\S]*ZDOT-ZSHRC-READ/);
    expect(s.text()).not.toContain('HOME-ZSHRC-READ');
    expect(await commandOutput(s, 'echo "[$ZDOTDIR]"; printenv ZDOTDIR')).toBe(`[${s.home.path}/zdot]\n${s.home.path}/zdot\n`);
  });

  it('a login shell (-l) reads .zprofile and .zlogin', async () => {
    const s = start('zsh', { files: { '.zprofile': 'echo ZPROFILE-READ\n', '.zlogin': 'echo ZLOGIN-READ\n' }, args: ['-l'] });
    await s.prompt();
    expect(s.text()).toMatch(/ZPROFILE-READ[\s\S]*ZLOGIN-READ/);
    expect(await commandOutput(s, '[[ -o login ]] && echo IS-LOGIN')).toBe('IS-LOGIN\n');
  });

  it('the history file gets the commands as usual, and nothing of ours', async () => {
    const s = start('zsh', { rc: `${PS1}HISTFILE=~/zhist\nSAVEHIST=100\nHISTSIZE=100\n` });
    await s.prompt();
    await s.run('echo one');
    await s.run('echo two | cat');
    s.write('exit\r');
    await s.exited();
    expect(readFileSync(`${s.home.path}/zhist`, 'utf8')).toBe('echo one\necho two | cat\nexit\n');
  });
});
