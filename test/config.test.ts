/**
 * `omnish config` end to end: a change at run time reaches the running omnishd (its LLM requests
 * go to the new default backend), `--save` edits the file and keeps every comment, refused input
 * changes nothing, `config check` points at the line, and `::config` works at the prompt.
 */
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer } from '../src/llm/testing/fake-anthropic.js';
import { omnish, omnishAsync, sessions, startDaemon, waitDaemon } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { idlePrompt, ROOT, runIn, type Term, waitUntil } from './helpers/term.js';

const dir = useTestDir();
const PROMPT_READY = /\x1b\]133;B;omnish=[0-9a-f]+\x07/;
const KEY_ENV = { OMNISH_TEST_LLM_KEY: 'sk-ant-test-key' };
const DEFAULT_TOML = join(ROOT, 'config', 'default.toml');
const configFile = () => join(dir.path, 'config.toml');

/** Types a `::` line at a ready prompt; returns what it printed up to the next prompt. */
async function atPrompt(t: Term, line: string): Promise<string> {
  await idlePrompt(t);
  const since = t.mark();
  t.write(`${line}\r`);
  return (await t.waitFor(PROMPT_READY, { since: since + line.length })).replace(/\r/g, '');
}

describe('omnish config with a running omnishd', () => {
  let first: FakeAnthropicServer;
  let second: FakeAnthropicServer;
  beforeEach(async () => {
    [first, second] = await Promise.all([FakeAnthropicServer.start(), FakeAnthropicServer.start()]);
  });
  afterEach(async () => {
    await Promise.all([first.close(), second.close()]);
  });

  it('::config llm.default switches the backend omnishd asks; config get shows it; the file stays; restart keys are refused', async () => {
    const backend = (name: string, fake: FakeAnthropicServer) =>
      `[llm.${name}]\nbackend = "anthropic"\nmodel = "m-${name}"\nbase_url = "${fake.baseUrl}"\napi_key_env = "OMNISH_TEST_LLM_KEY"\n`;
    const text = `# two backends\n[llm]\ndefault = "first"\n${backend('first', first)}${backend('second', second)}` +
      '[llm.auto_trigger]\non_nonzero_exit = false\non_stderr_patterns = false\n';
    writeFileSync(configFile(), text);
    const t = dir.omnish({ env: KEY_ENV, args: [] });
    await t.waitFor(PROMPT_READY);
    await runIn(t, 'true');
    await waitUntil(() => sessions(dir.path).length === 1, 'the session to register');

    first.enqueue({ kind: 'stream', pieces: ['from first'] });
    const before = await omnishAsync(dir.path, ['ask', '--json', 'which?'], KEY_ENV);
    expect(JSON.parse(before.stdout)).toMatchObject({ answer: 'from first', backend: 'first' });

    expect(await atPrompt(t, '::config llm.default second')).toContain('llm.default = "second" in omnishd until it stops');
    expect(omnish(dir.path, ['config', 'get', 'llm.default']).stdout).toBe('second\n');
    expect(omnish(dir.path, ['config', 'get', 'llm.default', '--file']).stdout).toBe('first\n');
    expect(readFileSync(configFile(), 'utf8')).toBe(text);

    second.enqueue({ kind: 'stream', pieces: ['from second'] });
    const after = await omnishAsync(dir.path, ['ask', '--json', 'which?'], KEY_ENV);
    expect(JSON.parse(after.stdout)).toMatchObject({ answer: 'from second', backend: 'second' });
    expect(second.completions).toHaveLength(1);

    expect(await atPrompt(t, '::config daemon.autostart false')).toContain('daemon.autostart cannot change at run time; use --save and restart omnish');
    // The prompt still works, and nothing reached the shell.
    expect(await runIn(t, 'echo ok-$((2+2))')).toContain('ok-4');
  });
});

describe('omnish config', () => {
  it('set --save changes only the key line of a commented file, and the running omnishd', async () => {
    copyFileSync(DEFAULT_TOML, configFile());
    const before = readFileSync(configFile(), 'utf8');
    startDaemon(dir.path);
    await waitDaemon(dir.path);

    const r = omnish(dir.path, ['config', 'set', 'llm.auto_trigger.cooldown_seconds', '45', '--save']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`llm.auto_trigger.cooldown_seconds = 45 saved to ${configFile()} and in use by omnishd\n`);
    const lines = readFileSync(configFile(), 'utf8').split('\n');
    const old = before.split('\n');
    expect(lines).toHaveLength(old.length);
    const diff = lines.map((l, i) => [l, old[i]]).filter(([a, b]) => a !== b);
    expect(diff).toEqual([['cooldown_seconds = 45', 'cooldown_seconds = 30']]);
    expect(omnish(dir.path, ['config', 'get', 'llm.auto_trigger.cooldown_seconds']).stdout).toBe('45\n');

    // A key that is only a comment in the file gets its own new line; the rest stays as it was.
    const zsh = omnish(dir.path, ['config', 'set', 'shell.command', '/bin/zsh', '--save']);
    expect(zsh.stdout).toMatch(/shell\.command = "\/bin\/zsh" saved to .*; omnish shells started from now on use it/);
    const now = readFileSync(configFile(), 'utf8').split('\n');
    expect(now.filter((l) => l !== 'command = "/bin/zsh"')).toEqual(lines);
    expect(omnish(dir.path, ['config', 'check']).stdout).toBe(`${configFile()}: ok\n`);
  });

  it('a bad key or value: one line, exit status 2, the file and omnishd unchanged', async () => {
    copyFileSync(DEFAULT_TOML, configFile());
    const before = readFileSync(configFile());
    const mtime = statSync(configFile()).mtimeMs;
    startDaemon(dir.path);
    await waitDaemon(dir.path);
    for (const args of [
      ['set', 'llm.auto_trigger.cooldown_seconds', '-5', '--save'],
      ['set', 'llm.auto_trigger.cooldown_seconds', '-5'],
      ['set', 'llm.auto_trigger.cooldwn_seconds', '5', '--save'],
      ['set', 'llm.default', 'nope'],
      ['set', 'daemon.autostart', 'maybe', '--save'],
    ]) {
      const r = omnish(dir.path, ['config', ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(args[1] === 'llm.auto_trigger.cooldwn_seconds' ? /did you mean llm\.auto_trigger\.cooldown_seconds/ : new RegExp(args[1]!.replace(/\./g, '\\.')));
    }
    expect(readFileSync(configFile())).toEqual(before);
    expect(statSync(configFile()).mtimeMs).toBe(mtime);
    expect(omnish(dir.path, ['config', 'get', 'llm.auto_trigger.cooldown_seconds']).stdout).toBe('30\n');
  });

  it('config check points at the line of a syntax error and of a bad value', () => {
    writeFileSync(configFile(), '# mine\n[shell]\nstrip_marks = false\n\n[llm.auto_trigger]\nnotify = true\nmax_per_hour = "lots"\n');
    const bad = omnish(dir.path, ['config', 'check']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe(`${configFile()}:7:1: llm.auto_trigger.max_per_hour must be an integer, 0 or more (0 turns auto-explanations off)\n`);
    writeFileSync(configFile(), '[shell]\nstrip_marks = false\n[daemon\n');
    const broken = omnish(dir.path, ['config', 'check', configFile()]);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(new RegExp(`^${configFile()}:3:\\d+: Invalid TOML document`));
    expect(omnish(dir.path, ['config', 'path']).stdout).toBe(`${configFile()}\n`);
  });
});
