import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from './config.js';
import { keyName, problemMessage, readConfigFile } from './file.js';

const dir = mkdtempSync(join(tmpdir(), 'omnish-config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function read(text: string) {
  const file = join(dir, 'c.toml');
  writeFileSync(file, text);
  return { file, read: readConfigFile(file) };
}

describe('readConfigFile', () => {
  it('a missing file is the defaults, with no text', () => {
    expect(readConfigFile(join(dir, 'none.toml'))).toEqual({ ok: true, text: null, config: defaultConfig() });
  });

  it('a valid file gives its text and config', () => {
    const r = read('[store]\nmax_age_days = 7\n').read;
    expect(r.ok && r.config.store.maxAgeDays).toBe(7);
    expect(r.text).toBe('[store]\nmax_age_days = 7\n');
  });

  it('a bad value names the file, the line and column of its key, and the key', () => {
    const { file, read: r } = read('# mine\n[store]\nmax_total_mb = 1\n\n[llm.auto_trigger]\nnotify = true\n  max_per_hour = "lots"\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem).toEqual({
      file, line: 7, col: 3, key: 'llm.auto_trigger.max_per_hour',
      error: 'llm.auto_trigger.max_per_hour must be an integer, 0 or more (0 turns auto-explanations off)',
    });
    expect(problemMessage(r.problem)).toBe(`${file}:7:3: llm.auto_trigger.max_per_hour must be an integer, 0 or more (0 turns auto-explanations off)`);
  });

  it('a syntax error has the parser\'s line and column and no key', () => {
    const { file, read: r } = read('[shell]\nstrip_marks = false\ncommand = \n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem).toMatchObject({ file, line: 3 });
    expect(r.problem.key).toBeUndefined();
    expect(problemMessage(r.problem)).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:3:\\d+: \\S`));
  });

  it('a key inside an [[array]] table, and a missing key, point at their table', () => {
    const rule = read('[[events.rules]]\nname = "a"\npattern = "x"\n[[events.rules]]\nname = "b"\npattern = "("\n').read;
    expect(!rule.ok && rule.problem).toMatchObject({ line: 6, key: 'events.rules[2].pattern' });
    const missing = read('[llm]\n[llm."my model"]\nbackend = "anthropic"\napi_key_env = "K"\n').read;
    expect(!missing.ok && missing.problem).toMatchObject({ line: 2, key: 'llm."my model".model' });
  });

  it('an unreadable file is a problem without a line', () => {
    const sub = join(dir, 'adir.toml');
    mkdirSync(sub);
    const r = readConfigFile(sub);
    expect(!r.ok && r.problem).toMatchObject({ file: sub, error: expect.stringMatching(/^cannot read: EISDIR/) });
    expect(!r.ok && problemMessage(r.problem)).toMatch(/adir\.toml: cannot read: EISDIR/);
  });
});

describe('keyName', () => {
  it('is undefined for the whole file', () => {
    expect(keyName({ path: [] })).toBeUndefined();
    expect(keyName({ path: [], array: { path: ['events', 'rules'], index: 1 } })).toBe('events.rules[1]');
  });
});
