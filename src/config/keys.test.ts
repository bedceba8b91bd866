import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../common/errors.js';
import { defaultConfig, validateConfig } from './config.js';
import { closeMatches, errorTarget, getIn, KEYS, knownKeys, setIn, specFor, toDoc, type Table } from './keys.js';

const DEFAULT_TOML = readFileSync(join(import.meta.dirname, '..', '..', 'config', 'default.toml'), 'utf8');

/** Dotted paths of every value in a document (arrays are values). */
function leaves(doc: Table, prefix: string[] = []): string[][] {
  return Object.entries(doc).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? leaves(v as Table, [...prefix, k]) : [[...prefix, k]]);
}

const RICH = `
[shell]
command = "/bin/zsh"
[events]
ignore_exit_codes = [1]
[[events.rules]]
name = "oom"
pattern = 'out of memory'
[[events.rules]]
name = "make"
pattern = '^make: \\*\\*\\*'
command = '^make\\b'
exit_codes = [2]
[llm]
default = "claude"
fallback = ["local"]
[llm.claude]
backend = "anthropic"
model = "claude-x"
api_key_cmd = "pass show anthropic"
[llm.local]
backend = "openai_compat"
model = "llama"
base_url = "http://127.0.0.1:11434/v1"
timeout_seconds = 0.5
[llm.auto_trigger]
notify = true
`;

describe('the key table', () => {
  it('has every key of config/default.toml, and of its commented-out examples', () => {
    for (const path of leaves(parse(DEFAULT_TOML))) expect(specFor(path), path.join('.')).toBeDefined();
    for (const key of ['shell.command', 'llm.default', 'llm.fallback', 'llm.claude.model', 'llm.claude.api_key_cmd', 'llm.openai.base_url', 'llm.openai.api_key_env', 'llm.claude.max_tokens', 'llm.claude.timeout_seconds']) {
      expect(specFor(key.split('.')), key).toBeDefined();
    }
  });

  it('says which keys a running omnishd can change', () => {
    const runtime = (key: string) => specFor(key.split('.'))?.runtime;
    for (const key of ['llm.default', 'llm.fallback', 'llm.max_context_tokens', 'llm.auto_trigger.cooldown_seconds', 'events.output_patterns', 'llm.claude.model', 'store.max_total_mb', 'redact.patterns', 'redact.allow']) {
      expect(runtime(key), key).toBe(true);
    }
    for (const key of ['shell.command', 'shell.strip_marks', 'shell.command_prefix', 'daemon.autostart', 'events.rules']) expect(runtime(key), key).toBe(false);
    expect(specFor(['events', 'rules'])?.settable).toBe(false);
    expect(KEYS.filter((k) => !k.runtime).every((k) => k.reader === 'shell' || k.key === 'events.rules')).toBe(true);
  });

  it('knows no other key', () => {
    for (const key of ['llm.auto_trigger.nope', 'shell', 'llm.claude', 'llm.claude.api_key', 'nope.x']) expect(specFor(key.split('.')), key).toBeUndefined();
  });
});

describe('toDoc', () => {
  it('writes a config that validates back to itself, defaults included', () => {
    expect(validateConfig(toDoc(defaultConfig()), 'x')).toEqual(defaultConfig());
    const rich = validateConfig(parse(RICH), 'x');
    expect(validateConfig(toDoc(rich), 'x')).toEqual(rich);
    const doc = toDoc(rich);
    expect(getIn(doc, ['llm', 'claude', 'max_tokens'])).toBe(1024);
    expect(getIn(doc, ['events', 'rules'])).toEqual([
      { name: 'oom', pattern: 'out of memory' },
      { name: 'make', pattern: '^make: \\*\\*\\*', command: '^make\\b', exit_codes: [2] },
    ]);
    expect(getIn(toDoc(defaultConfig()), ['shell', 'command'])).toBeUndefined();
  });

  it('writes on_stderr_patterns as the list when it is one, else as the boolean', () => {
    const key = ['llm', 'auto_trigger', 'on_stderr_patterns'];
    const listed = validateConfig(parse('[llm.auto_trigger]\non_stderr_patterns = ["error", "^E\\\\d+"]\n'), 'x');
    expect(getIn(toDoc(listed), key)).toEqual(['error', '^E\\d+']);
    expect(validateConfig(toDoc(listed), 'x')).toEqual(listed);
    expect(getIn(toDoc(defaultConfig()), key)).toBe(true);
  });

  it('lists the keys of the configured backends', () => {
    const keys = knownKeys(validateConfig(parse(RICH), 'x'));
    expect(keys).toContain('llm.local.base_url');
    expect(keys).toContain('llm.auto_trigger.notify');
    expect(keys.some((k) => k.includes('<'))).toBe(false);
  });

  it('gets and sets dotted paths', () => {
    const doc: Table = {};
    setIn(doc, ['a', 'b', 'c'], 1);
    setIn(doc, ['a', 'd'], [1]);
    expect(doc).toEqual({ a: { b: { c: 1 }, d: [1] } });
    expect(getIn(doc, ['a', 'd', 'x'])).toBeUndefined();
    setIn(doc, ['a', 'b', 'c'], undefined);
    expect(doc).toEqual({ a: { b: {}, d: [1] } });
  });
});

describe('closeMatches', () => {
  const keys = knownKeys(defaultConfig());
  it('finds typos, the same last part, and parts of keys', () => {
    expect(closeMatches('llm.defualt', keys)).toEqual(['llm.default']);
    expect(closeMatches('cooldown_seconds', keys)).toEqual(['llm.auto_trigger.cooldown_seconds']);
    expect(closeMatches('autostart', keys)).toEqual(['daemon.autostart']);
    expect(closeMatches('zzz', keys)).toEqual([]);
  });
});

describe('errorTarget', () => {
  /** The target of the error validateConfig raises for `text`. */
  function targetOf(text: string) {
    try {
      validateConfig(parse(text), 'F');
    } catch (err) {
      if (err instanceof ConfigError) return errorTarget(err, 'F');
      throw err;
    }
    throw new Error(`valid: ${text}`);
  }

  it('finds the key of every kind of validation message', () => {
    expect(targetOf('[nope]\n').target).toEqual({ path: ['nope'] });
    expect(targetOf('[shell]\ncommnd = "x"\n').target).toEqual({ path: ['shell', 'commnd'] });
    expect(targetOf('[daemon]\nautostart = 1\n')).toEqual({ reason: 'daemon.autostart must be true or false', target: { path: ['daemon', 'autostart'] } });
    expect(targetOf('[llm.auto_trigger]\ncooldown_seconds = -1\n').target).toEqual({ path: ['llm', 'auto_trigger', 'cooldown_seconds'] });
    expect(targetOf('[llm.c]\nbackend = "anthropic"\napi_key_env = "X"\n').target).toEqual({ path: ['llm', 'c', 'model'] });
    expect(targetOf('[llm.c]\nbackend = "anthropic"\nmodel = "m"\n').target).toEqual({ path: ['llm', 'c'] });
    expect(targetOf('[llm.c]\napi_key = "sk"\n').target).toEqual({ path: ['llm', 'c', 'api_key'] });
    expect(targetOf('[[events.rules]]\nname = "a"\npattern = "x"\n[[events.rules]]\nname = "b"\npattern = "("\n').target)
      .toEqual({ path: ['pattern'], array: { path: ['events', 'rules'], index: 2 } });
    expect(targetOf("[redact]\npatterns = ['x', '(']\n").target).toEqual({ path: ['redact', 'patterns'] });
    expect(targetOf('[[events.rules]]\nname = "a"\n').target).toEqual({ path: ['pattern'], array: { path: ['events', 'rules'], index: 1 } });
    expect(targetOf('[[events.rules]]\nname = "a"\npattern = "x"\nwhen = 1\n').target).toEqual({ path: ['when'], array: { path: ['events', 'rules'], index: 1 } });
    expect(targetOf('[llm.auto_trigger]\non_stderr_patterns = ["ok", "("]\n')).toMatchObject({
      reason: expect.stringMatching(/^llm\.auto_trigger\.on_stderr_patterns entry 2 \("\("\) is not a valid regular expression: /),
      target: { path: ['llm', 'auto_trigger', 'on_stderr_patterns'] },
    });
  });

  it('keeps a backend name with dots or spaces whole, which the message alone cannot tell', () => {
    expect(targetOf('[llm."gpt-4.1 mini"]\nbackend = "openai_compat"\napi_key_env = "X"\n')).toEqual({
      reason: 'llm.gpt-4.1 mini.model is required: the model id, such as "claude-sonnet-4-5" or "gpt-4o-mini"',
      target: { path: ['llm', 'gpt-4.1 mini', 'model'] },
    });
    expect(targetOf('[llm."a.b"]\nbackend = "anthropic"\nmodel = "m"\n').target).toEqual({ path: ['llm', 'a.b'] });
  });

  it('points an error raised without a key at the whole file', () => {
    expect(errorTarget(new ConfigError('F: cannot read'), 'F')).toEqual({ reason: 'cannot read', target: { path: [] } });
  });
});
