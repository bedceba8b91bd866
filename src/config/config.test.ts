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

  it('reads [session] record_input (off by default) and rejects a non-boolean', () => {
    expect(defaultConfig().session.recordInput).toBe(false);
    expect(load('[session]\nrecord_input = true\n').session.recordInput).toBe(true);
    expect(() => load('[session]\nrecord_input = 1\n')).toThrow(/session\.record_input must be true or false/);
    expect(() => load('[session]\nrecord_keys = true\n')).toThrow(/unknown key session\.record_keys/);
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

describe('loadConfig [store]', () => {
  it('defaults: 1024 MB in all, 256 MB per session, 90 days', () => {
    expect(defaultConfig().store).toEqual({ maxTotalMb: 1024, maxSessionMb: 256, maxAgeDays: 90 });
  });

  it('reads integers and fractions, 0 included, and keeps defaults for keys not given', () => {
    expect(load('[store]\nmax_total_mb = 0.05\nmax_age_days = 0\n').store).toEqual({ maxTotalMb: 0.05, maxSessionMb: 256, maxAgeDays: 0 });
    expect(load('[store]\nmax_session_mb = 16\n').store.maxSessionMb).toBe(16);
  });

  it('rejects negative, non-numeric and infinite limits, naming the file and key', () => {
    expect(() => load('[store]\nmax_total_mb = -1\n')).toThrow(ConfigError);
    expect(() => load('[store]\nmax_total_mb = -1\n')).toThrow(/c\.toml: store\.max_total_mb must be a number of MB, 0 or more \(0 = no limit\)/);
    expect(() => load('[store]\nmax_session_mb = "256"\n')).toThrow(/c\.toml: store\.max_session_mb must be a number of MB/);
    expect(() => load('[store]\nmax_age_days = inf\n')).toThrow(/c\.toml: store\.max_age_days must be a number of days/);
    expect(() => load('[store]\nmax_age_days = nan\n')).toThrow(/store\.max_age_days/);
    expect(() => load('[store]\nmax_age_days = true\n')).toThrow(/store\.max_age_days/);
    expect(() => load('[store]\nmax_total = 1\n')).toThrow(/c\.toml: unknown key store\.max_total/);
    expect(() => load('store = 1\n')).toThrow(/store must be a table/);
  });
});

describe('loadConfig [llm]', () => {
  const design = `[llm]
default = "claude"
fallback = ["openai"]
max_context_tokens = 8000
[llm.claude]
backend = "anthropic"
model = "claude-sonnet-4-5"
api_key_cmd = "pass show anthropic"
[llm.openai]
backend = "openai_compat"
model = "gpt-4o-mini"
base_url = "https://api.openai.com/v1"
api_key_env = "OPENAI_API_KEY"
`;

  it("reads the design's example", () => {
    const llm = load(design).llm;
    expect(llm.default).toBe('claude');
    expect(llm.fallback).toEqual(['openai']);
    expect(llm.maxContextTokens).toBe(8000);
    expect(llm.backends).toEqual({
      claude: { name: 'claude', kind: 'anthropic', model: 'claude-sonnet-4-5', apiKeyCmd: 'pass show anthropic', maxTokens: 1024, timeoutSeconds: 60 },
      openai: { name: 'openai', kind: 'openai_compat', model: 'gpt-4o-mini', baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY', maxTokens: 1024, timeoutSeconds: 60 },
    });
    expect(llm.autoTrigger).toEqual(defaultConfig().llm.autoTrigger);
  });

  it('defaults: no backend, 8000 context tokens, auto-explanations on with limits', () => {
    expect(defaultConfig().llm).toEqual({
      fallback: [], maxContextTokens: 8000, backends: {},
      autoTrigger: { onNonzeroExit: true, onStderrPatterns: true, cooldownSeconds: 30, maxPerHour: 20, notify: false },
      tools: { enabled: true, maxCalls: 8, budgetSeconds: 30, readFiles: false, readFileMaxBytes: 32_768 },
    });
    expect(load('[llm]\nmax_context_tokens = 4000\n').llm.default).toBeUndefined();
  });

  it('[llm.tools] and a backend\'s tools flag: read and checked', () => {
    const c = load('[llm.tools]\nmax_calls = 3\nbudget_seconds = 5.5\nread_files = true\n[llm.local]\nbackend = "openai_compat"\nmodel = "m"\nbase_url = "http://127.0.0.1:1/v1"\ntools = false\n');
    expect(c.llm.tools).toEqual({ enabled: true, maxCalls: 3, budgetSeconds: 5.5, readFiles: true, readFileMaxBytes: 32_768 });
    expect(c.llm.backends.local?.tools).toBe(false);
    expect(c.llm.default).toBe('local');
    expect(() => load('[llm.tools]\nmax_calls = -1\n')).toThrow(/llm\.tools\.max_calls must be an integer from 0 to 100/);
    expect(() => load('[llm.tools]\nbudget_seconds = 0\n')).toThrow(/llm\.tools\.budget_seconds must be a number of seconds above 0/);
    expect(() => load('[llm.tools]\nread_files = "yes"\n')).toThrow(/llm\.tools\.read_files must be true or false/);
    expect(() => load('[llm.tools]\nmax_call = 2\n')).toThrow(/unknown key llm\.tools\.max_call \(known: enabled, max_calls/);
  });

  it('reads max_tokens, timeout_seconds and a lone backend as the default', () => {
    const llm = load('[llm.local]\nbackend = "openai_compat"\nmodel = "llama3.2"\nbase_url = "http://localhost:11434/v1"\nmax_tokens = 500\ntimeout_seconds = 2.5\n').llm;
    expect(llm.default).toBe('local');
    expect(llm.backends.local).toMatchObject({ maxTokens: 500, timeoutSeconds: 2.5, baseUrl: 'http://localhost:11434/v1' });
    expect(llm.backends.local?.apiKeyCmd).toBeUndefined();
  });

  it('refuses a plaintext api_key, naming the file and key and what to use instead', () => {
    const text = '[llm.claude]\nbackend = "anthropic"\nmodel = "m"\napi_key = "sk-ant-123"\n';
    expect(() => load(text)).toThrow(ConfigError);
    expect(() => load(text)).toThrow(/c\.toml: llm\.claude\.api_key: .*refused; use api_key_cmd = .* or api_key_env = .* instead/);
    expect(() => load(text)).not.toThrow(/sk-ant-123/);
  });

  it('rejects bad backends, naming the file and key', () => {
    const b = (body: string) => load(`[llm.x]\n${body}\n`);
    expect(() => b('backend = "gemini"\nmodel = "m"\napi_key_env = "K"')).toThrow(/c\.toml: llm\.x\.backend must be one of "anthropic", "openai_compat"/);
    expect(() => b('backend = "anthropic"\napi_key_env = "K"')).toThrow(/c\.toml: llm\.x\.model is required/);
    expect(() => b('backend = "anthropic"\nmodel = 3\napi_key_env = "K"')).toThrow(/llm\.x\.model is required/);
    expect(() => b('backend = "anthropic"\nmodel = "m"')).toThrow(/llm\.x needs api_key_cmd or api_key_env/);
    expect(() => b('backend = "openai_compat"\nmodel = "m"\nbase_url = "https://openrouter.ai/api/v1"')).toThrow(/llm\.x needs api_key_cmd or api_key_env/);
    expect(() => b('backend = "anthropic"\nmodel = "m"\napi_key_env = "K"\napi_key_cmd = "c"')).toThrow(/llm\.x: give api_key_cmd or api_key_env, not both/);
    expect(() => b('backend = "anthropic"\nmodel = "m"\napi_key_env = "MY KEY"')).toThrow(/llm\.x\.api_key_env must be the name of an environment variable/);
    expect(() => b('backend = "anthropic"\nmodel = "m"\napi_key_cmd = ""')).toThrow(/llm\.x\.api_key_cmd must be a non-empty string/);
    expect(() => b('backend = "anthropic"\nmodel = "m"\napi_key_env = "K"\nmax_tokens = 0')).toThrow(/llm\.x\.max_tokens must be a positive integer/);
    expect(() => b('backend = "anthropic"\nmodel = "m"\napi_key_env = "K"\nmax_tokens = 1.5')).toThrow(/llm\.x\.max_tokens must be a positive integer/);
    expect(() => b('backend = "anthropic"\nmodel = "m"\napi_key_env = "K"\ntimeout_seconds = 0')).toThrow(/llm\.x\.timeout_seconds must be a number/);
    expect(() => b('backend = "anthropic"\nmodel = "m"\napi_key_env = "K"\ntimeout_seconds = "60"')).toThrow(/llm\.x\.timeout_seconds/);
    expect(() => b('backend = "openai_compat"\nmodel = "m"\napi_key_env = "K"\nbase_url = "localhost:11434"')).toThrow(/llm\.x\.base_url must be an http:\/\/ or https:\/\/ URL/);
    expect(() => b('backend = "anthropic"\nmodel = "m"\napi_key_env = "K"\nmodle = "m"')).toThrow(/unknown key llm\.x\.modle/);
  });

  it('a server on this machine may go without a key', () => {
    for (const url of ['http://127.0.0.1:11434/v1', 'http://localhost:1234/v1', 'http://[::1]:8000/v1']) {
      expect(load(`[llm.local]\nbackend = "openai_compat"\nmodel = "m"\nbase_url = "${url}"\n`).llm.backends.local?.baseUrl).toBe(url);
    }
  });

  it('rejects a bad default, fallback or top-level key', () => {
    const two = '[llm.a]\nbackend = "anthropic"\nmodel = "m"\napi_key_env = "K"\n[llm.b]\nbackend = "anthropic"\nmodel = "m"\napi_key_env = "K"\n';
    expect(() => load(two)).toThrow(/c\.toml: llm\.default is required with more than one backend \(have: a, b\)/);
    expect(() => load(`[llm]\ndefault = "c"\n${two}`)).toThrow(/llm\.default must name a \[llm\.<name>\] table \(have: a, b\)/);
    expect(() => load(`[llm]\ndefault = "a"\nfallback = ["c"]\n${two}`)).toThrow(/llm\.fallback must be an array of backend names other than the default/);
    expect(() => load(`[llm]\ndefault = "a"\nfallback = ["a"]\n${two}`)).toThrow(/llm\.fallback/);
    expect(() => load(`[llm]\ndefault = "a"\nfallback = "b"\n${two}`)).toThrow(/llm\.fallback/);
    expect(() => load(`[llm]\ndefault = "a"\nfallback = ["b", "b"]\n${two}`)).toThrow(/llm\.fallback names a backend twice/);
    expect(() => load('[llm]\nmax_context_tokens = -5\n')).toThrow(/llm\.max_context_tokens must be a positive integer/);
    expect(() => load('[llm]\nmax_context_tokens = "8000"\n')).toThrow(/llm\.max_context_tokens must be a positive integer/);
    expect(() => load('[llm]\ndefualt = "a"\n')).toThrow(/unknown key llm\.defualt/);
    expect(() => load('llm = 3\n')).toThrow(/llm must be a table/);
  });

  it('reads and checks [llm.auto_trigger]', () => {
    const t = load('[llm.auto_trigger]\non_nonzero_exit = false\non_stderr_patterns = false\ncooldown_seconds = 5\nmax_per_hour = 0\nnotify = true\n').llm.autoTrigger;
    expect(t).toEqual({ onNonzeroExit: false, onStderrPatterns: false, cooldownSeconds: 5, maxPerHour: 0, notify: true });
    expect(load('[llm.auto_trigger]\nnotify = true\n').llm.autoTrigger.cooldownSeconds).toBe(30);
    expect(() => load('[llm.auto_trigger]\nnotify = "yes"\n')).toThrow(/c\.toml: llm\.auto_trigger\.notify must be true or false/);
    expect(() => load('[llm.auto_trigger]\non_nonzero_exit = 1\n')).toThrow(/llm\.auto_trigger\.on_nonzero_exit must be true or false/);
    expect(() => load('[llm.auto_trigger]\ncooldown_seconds = -1\n')).toThrow(/llm\.auto_trigger\.cooldown_seconds must be a number of seconds/);
    expect(() => load('[llm.auto_trigger]\nmax_per_hour = 2.5\n')).toThrow(/llm\.auto_trigger\.max_per_hour must be an integer/);
    expect(() => load('[llm.auto_trigger]\ncooldown = 5\n')).toThrow(/unknown key llm\.auto_trigger\.cooldown/);
  });

  it('on_stderr_patterns: true or false, or a list of patterns that the detector searches', () => {
    expect(load('[llm.auto_trigger]\non_stderr_patterns = true\n').events.stderrPatterns).toBeUndefined();
    const off = load('[llm.auto_trigger]\non_stderr_patterns = false\n');
    expect([off.llm.autoTrigger.onStderrPatterns, off.events.stderrPatterns]).toEqual([false, undefined]);
    // The design document's form: a list turns pattern triggers on.
    const list = load('[llm.auto_trigger]\non_stderr_patterns = ["error", "panic", "traceback", "fatal"]\n');
    expect(list.llm.autoTrigger.onStderrPatterns).toBe(true);
    expect(list.events.stderrPatterns).toEqual(['error', 'panic', 'traceback', 'fatal']);
    expect(list.events.outputPatterns).toEqual(defaultConfig().events.outputPatterns);
    expect(load("[llm.auto_trigger]\non_stderr_patterns = ['^E\\d{4}:', 'out of (memory|disk)']\n").events.stderrPatterns)
      .toEqual(['^E\\d{4}:', 'out of (memory|disk)']);
    // config/default.toml's commented example is that list.
    const template = readFileSync(join(import.meta.dirname, '../../config/default.toml'), 'utf8')
      .replace(/^on_stderr_patterns = true$/m, '').replace(/^# (on_stderr_patterns = )/m, '$1');
    expect(load(template).events.stderrPatterns).toEqual(['error', 'panic', 'traceback', 'fatal']);
  });

  it('rejects a bad on_stderr_patterns, naming the file, the key and the entry', () => {
    const at = (value: string) => () => load(`[llm.auto_trigger]\non_stderr_patterns = ${value}\n`);
    expect(at('["ok", "(unclosed"]')).toThrow(ConfigError);
    expect(at('["ok", "(unclosed"]'))
      .toThrow(/c\.toml: llm\.auto_trigger\.on_stderr_patterns entry 2 \("\(unclosed"\) is not a valid regular expression: .*Unterminated group/);
    expect(at('["x*"]')).toThrow(/c\.toml: llm\.auto_trigger\.on_stderr_patterns entry 1 \("x\*"\) matches the empty string/);
    expect(at('["ok", ""]')).toThrow(/on_stderr_patterns entry 2 \(""\) matches the empty string/);
    expect(at('[]')).toThrow(/c\.toml: llm\.auto_trigger\.on_stderr_patterns must list at least one regular expression \(false turns/);
    for (const bad of ['"yes"', '1', '["error", 3]', '{ a = "x" }']) {
      expect(at(bad), bad).toThrow(/c\.toml: llm\.auto_trigger\.on_stderr_patterns must be true, false or an array of regular expressions/);
    }
  });

  it("config/default.toml's commented [llm] examples are valid", () => {
    const template = readFileSync(join(import.meta.dirname, '../../config/default.toml'), 'utf8');
    const keys = 'default|fallback|backend|model|base_url|api_key_cmd|api_key_env|max_tokens|timeout_seconds';
    const llm = load(template.replace(new RegExp(`^# (\\[llm\\.\\w+\\]|(${keys}) = )`, 'gm'), '$1')).llm;
    expect(llm.default).toBe('claude');
    expect(llm.fallback).toEqual(['openai']);
    expect(Object.keys(llm.backends)).toEqual(['claude', 'openai']);
  });
});

describe('loadConfig [redact]', () => {
  it('defaults: no patterns, nothing allowed', () => {
    expect(defaultConfig().redact).toEqual({ patterns: [], allow: [] });
  });

  it('reads patterns and allowed strings', () => {
    const c = load("[redact]\npatterns = ['ACME-[0-9A-F]{8}', 'pin=(?<secret>\\d+)']\nallow = [\"changeme\"]\n");
    expect(c.redact).toEqual({ patterns: ['ACME-[0-9A-F]{8}', 'pin=(?<secret>\\d+)'], allow: ['changeme'] });
  });

  it('rejects a bad pattern or allow-list, naming the file, the key and the entry', () => {
    expect(() => load("[redact]\npatterns = ['ok', '(unclosed']\n")).toThrow(ConfigError);
    expect(() => load("[redact]\npatterns = ['ok', '(unclosed']\n"))
      .toThrow(/c\.toml: redact\.patterns entry 2 \("\(unclosed"\) is not a valid regular expression: .*Unterminated group/);
    expect(() => load("[redact]\npatterns = ['|x']\n")).toThrow(/c\.toml: redact\.patterns entry 1 \("\|x"\) matches the empty string/);
    expect(() => load("[redact]\npatterns = 'x'\n")).toThrow(/c\.toml: redact\.patterns must be an array of regular expressions/);
    expect(() => load('[redact]\npatterns = [1]\n')).toThrow(/redact\.patterns must be an array/);
    expect(() => load('[redact]\nallow = ["a", ""]\n')).toThrow(/c\.toml: redact\.allow must be an array of non-empty strings/);
    expect(() => load('[redact]\nallow = "a"\n')).toThrow(/redact\.allow must be an array/);
    expect(() => load('[redact]\npattern = []\n')).toThrow(/c\.toml: unknown key redact\.pattern/);
  });

  it("config/default.toml's commented [redact] examples are valid", () => {
    const template = readFileSync(join(import.meta.dirname, '../../config/default.toml'), 'utf8')
      .replace(/^(patterns|allow) = \[\]$/gm, '')
      .replace(/^# (patterns|allow) = /gm, '$1 = ');
    const { redact } = load(template);
    expect(redact.patterns).toHaveLength(2);
    expect(redact.allow).toEqual(['AKIAIOSFODNN7EXAMPLE', 'changeme']);
    expect(new RegExp(redact.patterns[1] ?? '', 'd').exec('acme_pass=hunter2')?.indices?.groups?.secret).toEqual([10, 17]);
  });
});
