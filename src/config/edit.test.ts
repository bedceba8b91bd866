import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { afterAll, describe, expect, it } from 'vitest';
import { formatValue, parseDottedKey, parseValue, quoteKey, setKey, writeFileAtomic } from './edit.js';
import { locateKey, scanToml } from './toml-lines.js';

const DEFAULT_TOML = readFileSync(join(import.meta.dirname, '..', '..', 'config', 'default.toml'), 'utf8');

/** Lines of `after` that are not in `before`, and the reverse: what an edit changed. */
function changed(before: string, after: string): { added: string[]; removed: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  return { removed: a.slice(head, a.length - tail), added: b.slice(head, b.length - tail) };
}

describe('setKey', () => {
  it('replaces a value and keeps its comment and every other byte', () => {
    const text = '# top\n[llm]\ndefault = "claude"   # the main one\nmax_context_tokens = 8000\n';
    expect(setKey(text, ['llm', 'default'], 'openai')).toBe('# top\n[llm]\ndefault = "openai"   # the main one\nmax_context_tokens = 8000\n');
  });

  it('replaces a multi-line array whole, comments inside it included', () => {
    const text = '[events]\noutput_patterns = [\n  "error", # one\n  "fatal",\n]  # end\nignore_commands = []\n';
    const out = setKey(text, ['events', 'output_patterns'], ['oops']);
    expect(out).toBe('[events]\noutput_patterns = ["oops"]  # end\nignore_commands = []\n');
  });

  it('adds a key after the last key of its table, with the same indentation', () => {
    const text = '[shell]\n  strip_marks = false\n\n# about the daemon\n[daemon]\nautostart = true\n';
    expect(setKey(text, ['shell', 'command'], '/bin/zsh')).toBe('[shell]\n  strip_marks = false\n  command = "/bin/zsh"\n\n# about the daemon\n[daemon]\nautostart = true\n');
  });

  it('adds a key right after the header of a table with no keys', () => {
    const text = '[daemon]\n# nothing yet\n\n[llm]\n';
    expect(setKey(text, ['daemon', 'autostart'], false)).toBe('[daemon]\nautostart = false\n# nothing yet\n\n[llm]\n');
  });

  it('adds a dotted table after the last table of its section, or at the end', () => {
    const text = '[llm]\ndefault = "a"\n[llm.a]\nmodel = "m"\n\n# shell things\n[shell]\nstrip_marks = true\n';
    const out = setKey(text, ['llm', 'auto_trigger', 'notify'], true);
    expect(out).toBe('[llm]\ndefault = "a"\n[llm.a]\nmodel = "m"\n\n[llm.auto_trigger]\nnotify = true\n\n# shell things\n[shell]\nstrip_marks = true\n');
    expect(setKey('a = 1', ['daemon', 'autostart'], false)).toBe('a = 1\n\n[daemon]\nautostart = false\n');
    expect(setKey('', ['daemon', 'autostart'], false)).toBe('[daemon]\nautostart = false\n');
  });

  it('finds keys of dotted tables and dotted keys, and adds siblings in the same form', () => {
    const text = '[llm.auto_trigger]\ncooldown_seconds = 30\n';
    expect(setKey(text, ['llm', 'auto_trigger', 'cooldown_seconds'], 5)).toBe('[llm.auto_trigger]\ncooldown_seconds = 5\n');
    const dotted = '[llm]\nauto_trigger.notify = true\n[llm.x]\nmodel = "m"\n';
    expect(setKey(dotted, ['llm', 'auto_trigger', 'notify'], false)).toBe('[llm]\nauto_trigger.notify = false\n[llm.x]\nmodel = "m"\n');
    const added = setKey(dotted, ['llm', 'auto_trigger', 'max_per_hour'], 3);
    expect(added).toBe('[llm]\nauto_trigger.notify = true\nauto_trigger.max_per_hour = 3\n[llm.x]\nmodel = "m"\n');
    expect(parse(added)).toEqual({ llm: { auto_trigger: { notify: true, max_per_hour: 3 }, x: { model: 'm' } } });
  });

  it('is not fooled by strings holding #, ], = or a header-like line', () => {
    const text = '[shell]\ncommand_prefix = "#]"\nx = """\n[daemon]\nautostart = 1\n"""\n[daemon]\nautostart = true\n';
    const out = setKey(text, ['daemon', 'autostart'], false);
    expect(out).toBe(text.replace('autostart = true', 'autostart = false'));
    expect(setKey(text, ['shell', 'command_prefix'], '::')).toBe(text.replace('"#]"', '"::"'));
  });

  it('leaves [[array tables]] alone and keeps CRLF line ends', () => {
    const text = '[[events.rules]]\nname = "a"\npattern = "x"\n';
    expect(setKey(text, ['events', 'output_patterns'], [])).toBe('[[events.rules]]\nname = "a"\npattern = "x"\n\n[events]\noutput_patterns = []\n');
    expect(setKey('[shell]\r\nstrip_marks = false\r\n', ['shell', 'command'], 'sh')).toBe('[shell]\r\nstrip_marks = false\r\ncommand = "sh"\r\n');
  });

  it('refuses a key inside an inline table', () => {
    expect(() => setKey('[llm]\nauto_trigger = { notify = true }\n', ['llm', 'auto_trigger', 'notify'], false)).toThrow(/inside the value of llm\.auto_trigger \(line 2\)/);
  });

  it('changes one line of config/default.toml for each of its keys, and the result parses', () => {
    const cases: Array<[string[], unknown]> = [
      [['shell', 'strip_marks'], true], [['daemon', 'autostart'], false], [['events', 'output_patterns'], ['x']],
      [['llm', 'max_context_tokens'], 100], [['llm', 'auto_trigger', 'cooldown_seconds'], 1.5], [['store', 'max_age_days'], 7],
    ];
    for (const [path, value] of cases) {
      const out = setKey(DEFAULT_TOML, path, value);
      const { added, removed } = changed(DEFAULT_TOML, out);
      expect(added).toHaveLength(1);
      expect(removed.length).toBeGreaterThanOrEqual(1); // output_patterns spans four lines
      let v: unknown = parse(out);
      for (const p of path) v = (v as Record<string, unknown>)[p];
      expect(v).toEqual(value);
    }
    // A commented-out key is added as a new line; nothing else moves.
    const out = setKey(DEFAULT_TOML, ['shell', 'command'], '/bin/zsh');
    expect(changed(DEFAULT_TOML, out)).toEqual({ added: ['command = "/bin/zsh"'], removed: [] });
  });
});

describe('values and keys', () => {
  it('reads command-line values as TOML, a bare word as text', () => {
    expect(parseValue('true')).toBe(true);
    expect(parseValue('30')).toBe(30);
    expect(parseValue('-1')).toBe(-1);
    expect(parseValue('"x y"')).toBe('x y');
    expect(parseValue('["a","b"]')).toEqual(['a', 'b']);
    for (const word of ['openai', '/bin/zsh', 'gpt-4o-mini', '::']) expect(parseValue(word)).toBe(word);
    for (const bad of ['a b', '1\nx = 2', '[a', '']) expect(() => parseValue(bad)).toThrow(/is not a TOML value/);
  });

  it('writes values and keys that TOML reads back', () => {
    const values = ['plain', 'say "hi"', '^make(\\[\\d+\\])?', "it's \\", 'tab\there\x7f', 30, 1.5, true, ['a', 1], { k: 'v' }];
    for (const v of values) expect(parse(`v = ${formatValue(v)}`).v).toEqual(v);
    expect(formatValue('^a\\b')).toBe("'^a\\b'"); // backslashes: a literal string, as default.toml advises
    expect(formatValue(['x', 'y'])).toBe('["x", "y"]');
    expect(quoteKey('claude')).toBe('claude');
    expect(quoteKey('my model')).toBe('"my model"');
    expect(setKey('', ['llm', 'gpt-4.1', 'model'], 'm')).toBe('[llm."gpt-4.1"]\nmodel = "m"\n');
  });

  it('parses dotted keys as typed', () => {
    expect(parseDottedKey('llm.auto_trigger.notify')).toEqual(['llm', 'auto_trigger', 'notify']);
    expect(parseDottedKey('llm."gpt-4.1".model')).toEqual(['llm', 'gpt-4.1', 'model']);
    expect(parseDottedKey('llm..x')).toBeUndefined();
    expect(parseDottedKey('a b')).toBeUndefined();
  });
});

describe('scanToml and locateKey', () => {
  const text = '# c\n[llm]\ndefault = "a"\n\n[llm.a]\n  model = "m"\n[[events.rules]]\nname = "x"\n[[events.rules]]\nname = "y"\npattern = "("\n';

  it('lists headers and keys with their lines and columns', () => {
    const entries = scanToml(text).map((e) => [e.kind, e.path.join('.'), e.line, e.col]);
    expect(entries).toEqual([
      ['table', 'llm', 2, 1], ['key', 'llm.default', 3, 1], ['table', 'llm.a', 5, 1], ['key', 'llm.a.model', 6, 3],
      ['array-table', 'events.rules', 7, 1], ['key', 'events.rules.name', 8, 1], ['array-table', 'events.rules', 9, 1],
      ['key', 'events.rules.name', 10, 1], ['key', 'events.rules.pattern', 11, 1],
    ]);
  });

  it('points at a key, the nearest table on its way, or the Nth array table', () => {
    expect(locateKey(text, { path: ['llm', 'a', 'model'] })).toEqual({ line: 6, col: 3 });
    expect(locateKey(text, { path: ['llm', 'a', 'backend'] })).toEqual({ line: 5, col: 1 });
    expect(locateKey(text, { path: ['llm', 'fallback'] })).toEqual({ line: 2, col: 1 });
    expect(locateKey(text, { path: ['pattern'], array: { path: ['events', 'rules'], index: 2 } })).toEqual({ line: 11, col: 1 });
    expect(locateKey(text, { path: ['pattern'], array: { path: ['events', 'rules'], index: 1 } })).toEqual({ line: 7, col: 1 });
    expect(locateKey(text, { path: ['nope'] })).toEqual({ line: 1, col: 1 });
  });
});

describe('writeFileAtomic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'omnish-edit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file and its directory with private modes, and leaves no temporary file', () => {
    const path = join(dir, 'new', 'config.toml');
    writeFileAtomic(path, 'a = 1\n');
    expect(readFileSync(path, 'utf8')).toBe('a = 1\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'new')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(dir, 'new'))).toEqual(['config.toml']);
  });

  it("keeps an existing file's mode and follows a symlink", () => {
    const real = join(dir, 'real.toml');
    writeFileSync(real, 'old', { mode: 0o640 });
    const link = join(dir, 'link.toml');
    symlinkSync(real, link);
    writeFileAtomic(link, 'new');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('new');
    expect(statSync(real).mode & 0o777).toBe(0o640);
  });
});
