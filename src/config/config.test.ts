import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../common/errors.js';
import { defaultConfig, loadConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'omnish-config-'));
afterEach(() => rmSync(join(dir, 'c.toml'), { force: true }));

function load(text: string) {
  const path = join(dir, 'c.toml');
  writeFileSync(path, text);
  return loadConfig(path);
}

describe('loadConfig', () => {
  it('returns defaults when the file does not exist', () => {
    expect(loadConfig(join(dir, 'missing.toml'))).toEqual(defaultConfig());
    expect(defaultConfig().shell.stripMarks).toBe(false);
    expect(defaultConfig().events.ignoreExitCodes).toEqual([130, 141, 148]);
  });

  it('reads [shell] command', () => {
    expect(load('[shell]\ncommand = "/bin/zsh"\n').shell.command).toBe('/bin/zsh');
  });

  it('reads [daemon] autostart and rejects a non-boolean', () => {
    expect(load('[daemon]\nautostart = false\n').daemon.autostart).toBe(false);
    expect(() => load('[daemon]\nautostart = "no"\n')).toThrow(/daemon\.autostart must be true or false/);
  });

  it('names the file, line and column of a syntax error', () => {
    expect(() => load('[shell]\ncommand = \n')).toThrow(ConfigError);
    expect(() => load('[shell]\ncommand = \n')).toThrow(/c\.toml:2:\d+/);
  });

  it('names the key of an unknown or ill-typed value', () => {
    expect(() => load('[shell]\ncommnd = "x"\n')).toThrow(/unknown key shell\.commnd/);
    expect(() => load('[shell]\ncommand = 3\n')).toThrow(/shell\.command must be a non-empty string/);
    expect(() => load('[nope]\n')).toThrow(/unknown section \[nope\]/);
  });

  it('reads [shell] strip_marks', () => {
    expect(load('[shell]\nstrip_marks = true\n').shell.stripMarks).toBe(true);
    expect(() => load('[shell]\nstrip_marks = 1\n')).toThrow(/shell\.strip_marks must be true or false/);
  });
});

describe('loadConfig [events]', () => {
  it('reads the lists and keeps defaults for keys not given', () => {
    const c = load('[events]\nignore_exit_codes = [1]\noutput_patterns = ["oops"]\n').events;
    expect(c.ignoreExitCodes).toEqual([1]);
    expect(c.outputPatterns).toEqual(['oops']);
    expect(c.ignoreCommands).toEqual(defaultConfig().events.ignoreCommands);
    expect(load('[events]\nignore_commands = []\n').events.ignoreCommands).toEqual([]);
  });

  it('rejects ill-typed lists, naming the file and key', () => {
    expect(() => load('[events]\nignore_exit_codes = [1, "2"]\n')).toThrow(/c\.toml: events\.ignore_exit_codes must be an array of exit statuses/);
    expect(() => load('[events]\nignore_exit_codes = [256]\n')).toThrow(/events\.ignore_exit_codes/);
    expect(() => load('[events]\nignore_commands = "grep"\n')).toThrow(/events\.ignore_commands must be an array of non-empty strings/);
    expect(() => load('[events]\noutput_patterns = [""]\n')).toThrow(/events\.output_patterns/);
    expect(() => load('[events]\nignore_exit_code = [1]\n')).toThrow(/unknown key events\.ignore_exit_code/);
  });

  it('reads [[events.rules]]', () => {
    const text = `[[events.rules]]
name = "oom"
pattern = "out of memory|OOM"

[[events.rules]]
name = "make failed"
pattern = '^make: \\*\\*\\*'
command = '^make\\b'
exit_codes = [2]
`;
    expect(load(text).events.rules).toEqual([
      { name: 'oom', pattern: 'out of memory|OOM' },
      { name: 'make failed', pattern: '^make: \\*\\*\\*', command: '^make\\b', exitCodes: [2] },
    ]);
  });

  it('rejects bad rules, naming which one and the key', () => {
    const rule = (body: string) => load(`[[events.rules]]\nname = "a"\npattern = "x"\n[[events.rules]]\n${body}`);
    expect(() => rule('pattern = "x"\n')).toThrow(/\[\[events\.rules\]\] #2: name must be a non-empty string/);
    expect(() => rule('name = "b"\n')).toThrow(/#2 \("b"\): pattern is required/);
    expect(() => rule('name = "b"\npattern = "(unclosed"\n')).toThrow(/c\.toml: \[\[events\.rules\]\] #2 \("b"\): pattern is not a valid regular expression/);
    expect(() => rule('name = "b"\npattern = "x"\ncommand = "["\n')).toThrow(/#2 \("b"\): command is not a valid regular expression/);
    expect(() => rule('name = "b"\npattern = "x"\nexit_codes = 2\n')).toThrow(/#2 \("b"\): exit_codes must be an array/);
    expect(() => rule('name = "b"\npattern = "x"\nnme = 1\n')).toThrow(/unknown key nme in \[\[events\.rules\]\] #2/);
    expect(() => load('[events]\nrules = 3\n')).toThrow(/events\.rules must be written as \[\[events\.rules\]\] tables/);
  });

  it('config/default.toml holds the defaults, and its commented rule examples are valid', () => {
    const template = join(import.meta.dirname, '../../config/default.toml');
    expect(loadConfig(template)).toEqual(defaultConfig());
    const examples = readFileSync(template, 'utf8').replace(/^# (\[\[events\.rules\]\]|(name|pattern|command|exit_codes) = )/gm, '$1');
    const rules = load(examples).events.rules;
    expect(rules.map((r) => r.name)).toEqual(['out of memory', 'make failed']);
    expect(new RegExp(rules[1]?.pattern ?? '', 'im').test('make[2]: *** [all] Error 1')).toBe(true);
  });
});
