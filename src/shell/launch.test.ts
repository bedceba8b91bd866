import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initScript, integrationFor, scriptPath, SHELL_DIR, shellKind } from './launch.js';

describe('shellKind', () => {
  it('knows bash, zsh and fish by basename, also as login names and with versions', () => {
    expect(shellKind('/bin/bash')).toBe('bash');
    expect(shellKind('-bash')).toBe('bash');
    expect(shellKind('/usr/local/bin/bash5')).toBe('bash');
    expect(shellKind('/bin/zsh-5.9')).toBe('zsh');
    expect(shellKind('/opt/homebrew/bin/fish')).toBe('fish');
    for (const other of ['/bin/sh', '/bin/dash', '/bin/ksh', '/bin/tcsh', '/usr/bin/nu', '/bin/bashful']) {
      expect(shellKind(other)).toBeUndefined();
    }
  });
});

describe('integrationFor', () => {
  it('turns integration off for other shells and for -c, and starts them as they are', () => {
    expect(integrationFor('/bin/dash', ['-l'], {})).toEqual({
      integration: null,
      off: "unsupported shell 'dash'",
      file: '/bin/dash',
      args: ['-l'],
      env: {},
    });
    expect(integrationFor('-ksh', [], {})).toMatchObject({ off: "unsupported shell 'ksh'" });
    expect(integrationFor('/bin/bash', ['-lc', 'ls'], {})).toMatchObject({ integration: null, args: ['-lc', 'ls'] });
    expect(integrationFor('/bin/zsh', ['-f'], {})).toMatchObject({ off: 'zsh -f reads no startup files' });
  });

  it('bash: --posix first, -i added, ENV pointing at init.bash', () => {
    const r = integrationFor('/bin/bash', [], { HISTFILE: '/h', MAILCHECK: '5' });
    expect(r).toEqual({
      integration: 'bash',
      file: '/bin/bash',
      args: ['--posix', '-i'],
      env: { ENV: `${SHELL_DIR}bash/init.bash`, OMNISH_BASH_FLAGS: '' },
    });
    expect(existsSync(r.env.ENV as string)).toBe(true);
  });

  it('bash: keeps long options before short ones and hands startup flags to init.bash', () => {
    const r = integrationFor('/bin/bash', ['--norc', '--noprofile', '--login', '--rcfile', '/my rc', '-O', 'extglob'], {});
    expect(r.args).toEqual(['--posix', '--login', '-O', 'extglob', '-i']);
    expect(r.env.OMNISH_BASH_FLAGS).toBe('norc noprofile default-histfile default-mailcheck');
    expect(r.env.OMNISH_BASH_RCFILE).toBe('/my rc');
    expect(integrationFor('/bin/bash', ['-il', '--'], {}).args).toEqual(['--posix', '-il', '--']);
    expect(integrationFor('/bin/bash', ['-l', '--'], {}).args).toEqual(['--posix', '-l', '-i', '--']);
  });

  it('bash: passes the user ENV on, and notices posix mode and BASHOPTS asked for by the user', () => {
    const r = integrationFor('/bin/bash', ['--posix'], { ENV: '/u/.shrc', HISTFILE: '', MAILCHECK: '1', BASHOPTS: 'extglob:inherit_errexit' });
    expect(r.env.OMNISH_ORIG_ENV).toBe('/u/.shrc');
    expect(r.env.OMNISH_BASH_FLAGS).toBe('posix inherit-errexit');
    expect(integrationFor('/bin/bash', [], { POSIXLY_CORRECT: '' }).env.OMNISH_BASH_FLAGS).toContain('posix');
    expect(integrationFor('/bin/bash', ['-o', 'posix'], {}).env.OMNISH_BASH_FLAGS).toContain('posix');
  });

  it('zsh: ZDOTDIR pointing at our .zshenv, the user ZDOTDIR passed on if they had one', () => {
    expect(integrationFor('/bin/zsh', ['-l'], {})).toEqual({
      integration: 'zsh',
      file: '/bin/zsh',
      args: ['-l'],
      env: { ZDOTDIR: `${SHELL_DIR}zsh` },
    });
    expect(integrationFor('/bin/zsh', [], { ZDOTDIR: '/u/zsh' }).env).toMatchObject({ OMNISH_ORIG_ZDOTDIR: '/u/zsh' });
    expect(existsSync(`${SHELL_DIR}zsh/.zshenv`)).toBe(true);
  });

  it('fish: --init-command sourcing omnish.fish, quoted for fish', () => {
    const r = integrationFor('/usr/bin/fish', ['-l'], {});
    expect(r).toEqual({
      integration: 'fish',
      file: '/usr/bin/fish',
      args: ['-l', '--init-command', `source '${scriptPath('fish')}'`],
      env: {},
    });
  });
});

describe('scripts', () => {
  it('scriptPath names the shipped files and initScript returns their text', () => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      expect(scriptPath(shell)).toBe(`${SHELL_DIR}omnish.${shell}`);
      expect(initScript(shell)).toContain('__omnish_nonce');
    }
    expect(SHELL_DIR).toMatch(/\/src\/shell\/$/);
  });
});
