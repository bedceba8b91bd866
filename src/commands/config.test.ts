import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, DaemonUnavailableError, UsageError } from '../common/errors.js';
import { configCheck, configCommand, configGet, configSet } from './config.js';
import { buildProgram } from './commander.js';
import type { CommandIo } from './io.js';

const DEFAULT_TOML = readFileSync(join(import.meta.dirname, '..', '..', 'config', 'default.toml'), 'utf8');

let tmp: string;
let file: string;
let out: string;
let err: string;
let code: number;
let testIo: CommandIo;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-config-cmd-'));
  file = join(tmp, 'config.toml');
  vi.stubEnv('OMNISH_CONFIG', file);
  vi.stubEnv('OMNISH_SOCKET', join(tmp, 'run', 'omnish.sock')); // no omnishd answers there
  out = err = '';
  code = 0;
  testIo = {
    out: (s) => void (out += s), err: (s) => void (err += s), raw: () => undefined,
    isTTY: false, atPrompt: false, setExitCode: (c) => void (code = c),
  };
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs `omnish config ARGS` through commander, as the command table would. */
async function cli(...args: string[]): Promise<void> {
  await buildProgram([configCommand], testIo).parseAsync(['config', ...args], { from: 'user' });
}

describe('config get', () => {
  it('prints defaults, tables and lists; strings as plain text', async () => {
    await configGet(testIo, 'llm.auto_trigger.cooldown_seconds');
    await configGet(testIo, 'events.ignore_exit_codes');
    await configGet(testIo, 'shell.command_prefix');
    expect(out).toBe('30\n[130, 141, 148]\n::\n');
    out = '';
    await configGet(testIo, 'llm.auto_trigger');
    expect(out).toMatch(/^\[llm\.auto_trigger\]\non_nonzero_exit = true\n/);
  });

  it('prints the whole config as TOML or JSON, the file over the defaults', async () => {
    writeFileSync(file, '[daemon]\nautostart = false\n');
    await configGet(testIo, undefined, { json: true });
    const doc = JSON.parse(out) as { daemon: { autostart: boolean }; llm: { max_context_tokens: number } };
    expect(doc.daemon.autostart).toBe(false);
    expect(doc.llm.max_context_tokens).toBe(8000);
    out = '';
    await configGet(testIo);
    expect(out).toContain('[daemon]\nautostart = false\n');
  });

  it('says when a key is not set, and suggests keys for an unknown one', async () => {
    await configGet(testIo, 'shell.command');
    expect([out, err, code]).toEqual(['', 'shell.command is not set\n', 1]);
    await expect(configGet(testIo, 'llm.defualt')).rejects.toThrow("unknown key 'llm.defualt'; did you mean llm.default?");
    await expect(configGet(testIo, 'llm.defualt')).rejects.toBeInstanceOf(UsageError);
  });

  it('reports a broken file at its line', async () => {
    writeFileSync(file, '[shell]\nstrip_marks = "yes"\n');
    await expect(configGet(testIo, 'shell.strip_marks')).rejects.toThrow(`${file}:2:1: shell.strip_marks must be true or false`);
  });
});

describe('config set --save', () => {
  it('creates a missing file (mode 0600) with the key in its table', async () => {
    await configSet(testIo, 'llm.auto_trigger.cooldown_seconds', '60', { save: true });
    expect(readFileSync(file, 'utf8')).toBe('[llm.auto_trigger]\ncooldown_seconds = 60\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(out).toBe(`llm.auto_trigger.cooldown_seconds = 60 saved to ${file} (omnishd is not running; it reads the file when it starts)\n`);
  });

  it('changes one line of a commented file and keeps its mode', async () => {
    writeFileSync(file, DEFAULT_TOML);
    chmodSync(file, 0o640);
    await configSet(testIo, 'shell.strip_marks', 'true', { save: true });
    expect(readFileSync(file, 'utf8')).toBe(DEFAULT_TOML.replace('strip_marks = false', 'strip_marks = true'));
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(out).toMatch(/omnish shells started from now on use it/);
  });

  it('refuses a bad value, an unknown key and [[events.rules]] with exit status 2, changing nothing', async () => {
    writeFileSync(file, DEFAULT_TOML);
    const bad = [
      ['llm.auto_trigger.cooldown_seconds', '-5', 'cannot set llm.auto_trigger.cooldown_seconds: llm.auto_trigger.cooldown_seconds must be a number of seconds, 0 or more'],
      ['llm.default', 'openai', 'cannot set llm.default: llm.default must name a [llm.<name>] table (there is none)'],
      ['shell.strip_marks', 'yes', 'cannot set shell.strip_marks: shell.strip_marks must be true or false'],
      ['daemon.autostrat', 'false', "unknown key 'daemon.autostrat'; did you mean daemon.autostart?"],
      ['events.rules', '[]', 'events.rules cannot be set with omnish config set'],
      ['shell.command', 'a b', 'is not a TOML value'],
    ];
    for (const [key, value, message] of bad) {
      const e = await configSet(testIo, key!, value!, { save: true }).catch((x: unknown) => x);
      expect(e, key).toBeInstanceOf(UsageError);
      expect((e as Error).message, key).toContain(message);
      expect((e as Error).message).not.toContain('\n');
    }
    expect(readFileSync(file, 'utf8')).toBe(DEFAULT_TOML);
    expect(out).toBe('');
  });

  it('may fix the key that makes a file invalid, but not write into a file that is not TOML', async () => {
    const text = '[llm]\ndefault = "nope"\n[llm.a]\nbackend = "anthropic"\nmodel = "m"\napi_key_env = "K"\n';
    writeFileSync(file, text);
    await configSet(testIo, 'llm.default', 'a', { save: true });
    expect(readFileSync(file, 'utf8')).toBe(text.replace('"nope"', '"a"'));
    writeFileSync(file, '[llm\n');
    await expect(configSet(testIo, 'llm.max_context_tokens', '10', { save: true })).rejects.toThrow(new RegExp(`^${file}:1:\\d+: `));
  });
});

describe('config set at run time', () => {
  it('refuses keys that need a restart, before asking omnishd', async () => {
    await expect(configSet(testIo, 'daemon.autostart', 'false')).rejects.toThrow('daemon.autostart cannot change at run time; use --save and restart omnish');
    await expect(configSet(testIo, 'shell.strip_marks', 'true')).rejects.toBeInstanceOf(UsageError);
  });

  it('says so when no omnishd runs', async () => {
    const e = await configSet(testIo, 'llm.max_context_tokens', '100').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DaemonUnavailableError);
    expect((e as Error).message).toMatch(/omnishd is not running.*add --save/);
  });
});

describe('config check', () => {
  const check = async (text: string) => {
    writeFileSync(file, text);
    err = '';
    code = 0;
    await configCheck(testIo);
    return { err, code };
  };

  it('says ok, also for a missing default file; a missing named file is an error', async () => {
    await configCheck(testIo);
    expect(out).toBe(`${file}: ok (no file: the defaults apply)\n`);
    writeFileSync(file, DEFAULT_TOML);
    await configCheck(testIo, file);
    expect(out).toContain(`${file}: ok\n`);
    await configCheck(testIo, join(tmp, 'missing.toml'));
    expect([err, code]).toEqual([`${join(tmp, 'missing.toml')}: cannot read: no such file\n`, 1]);
  });

  it('points at the line of a syntax error', async () => {
    expect(await check('[shell]\nstrip_marks = \n')).toEqual({ err: `${file}:2:15: Invalid TOML document: invalid value\n`, code: 1 });
  });

  it('points at the line of the key a validation error names', async () => {
    const at = async (text: string) => (await check(text)).err.split(': ')[0];
    expect(await at('# c\n[llm]\nmax_context_tokens = 1\n\n[llm.auto_trigger]\nnotify = true\ncooldown_seconds = "soon"\n')).toBe(`${file}:7:1`);
    expect(await check('[shell]\n  command = 3\n')).toEqual({ err: `${file}:2:3: shell.command must be a non-empty string (a path such as "/bin/bash")\n`, code: 1 });
    expect(await at('[llm]\n[llm.claude]\nbackend = "anthropic"\n')).toBe(`${file}:2:1`); // model missing: its table
    expect(await at('[[events.rules]]\nname = "a"\npattern = "x"\n\n[[events.rules]]\nname = "b"\npattern = "("\n')).toBe(`${file}:7:1`);
    expect(await at('[daemon]\nautostart = true\n[nope]\nx = 1\n')).toBe(`${file}:3:1`);
    expect(await at('[daemon]\nautostart = true\nauto_start = 1\n')).toBe(`${file}:3:1`);
  });
});

describe('the command line', () => {
  it('has path, the short forms config KEY and config KEY VALUE, and exit statuses', async () => {
    await cli('path');
    await cli('llm.max_context_tokens');
    await cli('llm.max_context_tokens', '100', '--save');
    expect(out.split('\n').slice(0, 3)).toEqual([file, '8000', `llm.max_context_tokens = 100 saved to ${file} (omnishd is not running; it reads the file when it starts)`]);
    await expect(cli('daemon.autostart', 'false')).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('cannot change at run time') });
    await expect(cli('set', 'llm.auto_trigger.cooldown_seconds', '-1', '--save')).rejects.toBeInstanceOf(UsageError);
    writeFileSync(file, '[x\n');
    await expect(cli('get')).rejects.toBeInstanceOf(ConfigError);
  });
});
