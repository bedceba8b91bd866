import { describe, expect, it } from 'vitest';
import { isOmnish, resolveShell, which } from './resolve.js';

const env = { PATH: '/usr/bin:/bin' };

describe('resolveShell', () => {
  it('prefers OMNISH_SHELL, then the config, then $SHELL', () => {
    expect(resolveShell('/bin/sh', [], { ...env, OMNISH_SHELL: 'bash', SHELL: '/bin/sh' })).toEqual({ path: '/usr/bin/bash', source: 'OMNISH_SHELL' });
    expect(resolveShell('/bin/bash', [], { ...env, SHELL: '/bin/sh' })).toEqual({ path: '/bin/bash', source: 'config' });
    expect(resolveShell(undefined, [], { ...env, SHELL: '/bin/sh' })).toEqual({ path: '/bin/sh', source: 'SHELL' });
  });

  it('skips $SHELL when it is omnish itself, and shells that do not exist', () => {
    const shell = resolveShell('/nonexistent/zsh', ['/opt/omnish/bin/omnish.js'], { ...env, SHELL: '/usr/local/bin/omnish' });
    expect(['passwd', 'default']).toContain(shell.source);
    expect(shell.path).not.toMatch(/omnish/);
  });
});

describe('isOmnish / which', () => {
  it('recognises omnish by name or by real path', () => {
    expect(isOmnish('/usr/local/bin/omnish', [])).toBe(true);
    expect(isOmnish('/x/launcher', ['/x/launcher'])).toBe(true);
    expect(isOmnish('/bin/bash', ['/x/launcher'])).toBe(false);
  });

  it('finds commands on PATH and rejects relative paths', () => {
    expect(which('sh', env)).toMatch(/\/sh$/);
    expect(which('./sh', env)).toBeUndefined();
    expect(which('no-such-shell-xyz', env)).toBeUndefined();
  });
});
