import { describe, expect, it } from 'vitest';
import { classifyInvocation, isLoginProgram, type InvocationInput } from './invocation.js';

const base: InvocationInput = { argv0: 'omnish', args: [], stdinIsTty: true, stdoutIsTty: true, env: {}, parentIsLoginProgram: false };
const classify = (over: Partial<InvocationInput>) => classifyInvocation({ ...base, ...over });

describe('classifyInvocation', () => {
  it('wraps a plain interactive start', () => {
    expect(classify({})).toEqual({ mode: 'wrap', login: false, shellArgs: [] });
  });

  it.each([
    [['-c', 'ls'], 'command'],
    [['-lc', 'ls'], 'command'],
    [['--norc', '-c', 'ls'], 'command'],
    [['script.sh'], 'script'],
    [['-x', 'script.sh', '-c'], 'script'],
  ])('runs %j directly (%s)', (args, reason) => {
    expect(classify({ args })).toMatchObject({ mode: 'direct', reason });
  });

  it('runs directly when stdin or stdout is not a terminal', () => {
    expect(classify({ stdinIsTty: false })).toMatchObject({ mode: 'direct', reason: 'not-a-tty' });
    expect(classify({ stdoutIsTty: false })).toMatchObject({ mode: 'direct', reason: 'not-a-tty' });
  });

  it('never wraps inside omnish', () => {
    expect(classify({ env: { OMNISH_SESSION: 'abc123abc123' } })).toMatchObject({ mode: 'direct', reason: 'nested' });
  });

  it('recognises login shells by argv[0], -l, --login, or a login program as parent', () => {
    expect(classify({ argv0: '-omnish' }).login).toBe(true);
    expect(classify({ args: ['-l'] }).login).toBe(true);
    expect(classify({ args: ['--login'] }).login).toBe(true);
    expect(classify({ args: ['-il'] }).login).toBe(true);
    expect(classify({ parentIsLoginProgram: true }).login).toBe(true);
    expect(classify({ args: ['--norc'] }).login).toBe(false);
  });

  it('keeps the shell arguments as given', () => {
    expect(classify({ args: ['-l', '--norc'] }).shellArgs).toEqual(['-l', '--norc']);
  });
});

describe('isLoginProgram', () => {
  it('knows login and sshd', () => {
    expect(isLoginProgram('login\n')).toBe(true);
    expect(isLoginProgram('sshd')).toBe(true);
    expect(isLoginProgram('gnome-terminal-')).toBe(false);
  });
});
