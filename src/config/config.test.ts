import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../common/errors.js';
import { loadConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'omnish-config-'));
afterEach(() => rmSync(join(dir, 'c.toml'), { force: true }));

function load(text: string) {
  const path = join(dir, 'c.toml');
  writeFileSync(path, text);
  return loadConfig(path);
}

describe('loadConfig', () => {
  it('returns defaults when the file does not exist', () => {
    expect(loadConfig(join(dir, 'missing.toml'))).toEqual({ shell: {}, daemon: { autostart: true } });
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
});
