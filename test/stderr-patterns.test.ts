/**
 * `[llm.auto_trigger] on_stderr_patterns` as a list of patterns, the form of the design document:
 * `omnish config check` accepts it (and points at the line of a bad entry), and in a real session a
 * command whose output matches an entry gets an output-pattern event and an auto-explanation,
 * while the phrases of `[events] output_patterns` no longer count.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer } from '../src/llm/testing/fake-anthropic.js';
import { readEvents, SessionStore } from '../src/store/index.js';
import { omnish, sessions } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { runIn, waitUntil } from './helpers/term.js';

const dir = useTestDir();
const PROMPT_READY = /\x1b\]133;B;omnish=[0-9a-f]+\x07/;
const configFile = () => join(dir.path, 'config.toml');

describe('on_stderr_patterns = [patterns]', () => {
  it('config check accepts the design document\'s list and points at the key of a bad entry', () => {
    writeFileSync(configFile(), '[llm.auto_trigger]\non_nonzero_exit = true\non_stderr_patterns = ["error", "panic", "traceback", "fatal"]\n');
    const ok = omnish(dir.path, ['config', 'check']);
    expect(ok).toMatchObject({ status: 0, stdout: `${configFile()}: ok\n`, stderr: '' });
    expect(omnish(dir.path, ['config', 'get', 'llm.auto_trigger.on_stderr_patterns', '--file']).stdout).toBe('["error", "panic", "traceback", "fatal"]\n');

    writeFileSync(configFile(), "# mine\n[llm.auto_trigger]\nnotify = false\non_stderr_patterns = [\n  'error',\n  '(unclosed',\n]\n");
    const bad = omnish(dir.path, ['config', 'check']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(new RegExp(`^${configFile()}:4:1: llm\\.auto_trigger\\.on_stderr_patterns entry 2 \\("\\(unclosed"\\) is not a valid regular expression: .*\n$`));
  });

  it('config check points at the table of a backend whose name has a dot', () => {
    writeFileSync(configFile(), '[llm]\nmax_context_tokens = 8000\n\n[llm."gpt-4.1"]\nbackend = "openai_compat"\napi_key_env = "K"\n');
    const bad = omnish(dir.path, ['config', 'check']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe(`${configFile()}:4:1: llm.gpt-4.1.model is required: the model id, such as "claude-sonnet-4-5" or "gpt-4o-mini"\n`);
  });

  describe('in a session', () => {
    let fake: FakeAnthropicServer;
    beforeEach(async () => {
      fake = await FakeAnthropicServer.start();
    });
    afterEach(async () => {
      await fake.close();
    });

    it('an entry of the list raises an output-pattern event and an explanation; output_patterns no longer do', async () => {
      writeFileSync(configFile(), [
        '[llm.claude]', 'backend = "anthropic"', 'model = "claude-test"', `base_url = "${fake.baseUrl}"`, 'api_key_env = "OMNISH_TEST_LLM_KEY"',
        '[llm.auto_trigger]', 'on_nonzero_exit = false', "on_stderr_patterns = ['kaboom-\\d{2}']", 'cooldown_seconds = 0', '',
      ].join('\n'));
      fake.enqueue({ kind: 'stream', pieces: ['The kaboom ', 'was expected.'] });
      const t = dir.omnish({ env: { OMNISH_TEST_LLM_KEY: 'sk-test' }, args: [] });
      await t.waitFor(PROMPT_READY);
      // "error" is a default output pattern, not in the list; "kaboom-7" has one digit.
      await runIn(t, "printf '%s\\n' 'an error here' 'kaboom-7'");
      await runIn(t, "printf 'kaboom-%s\\n' 42");
      await t.waitScreen((s) => s.some((l) => l.includes('The kaboom was expected.')), 'the explanation');

      const [session] = sessions(dir.path);
      if (!session) throw new Error('no session recorded');
      const stored = new SessionStore(join(dir.path, 'data', 'sessions')).resolve(session.id);
      const events = readEvents(stored.dir).filter((e) => e.type === 'event');
      expect(events).toEqual([expect.objectContaining({ kind: 'output-pattern', pattern: 'kaboom-\\d{2}', match: 'kaboom-42', exitCode: 0 })]);
      // Only that command was explained, and the question was about it.
      await waitUntil(() => fake.completions.length === 1, 'the LLM request');
      expect(fake.completions[0]!.rawBody).toContain('kaboom-42');
      expect(fake.completions).toHaveLength(1);
    });
  });
});
