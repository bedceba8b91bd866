/**
 * `::fix` end to end: a scripted model proposes a command with its suggest_command tool during
 * `::ask`; `::fix` at a real bash, zsh and fish prompt puts that command on the command line
 * without running it. The proof is what the shell then runs: the user adds to the line and presses
 * Enter, the whole line runs once, and the shell's history holds that line only (no `::` line, no
 * earlier run of the suggestion alone).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer } from '../src/llm/testing/fake-anthropic.js';
import { useTestDir } from './helpers/fixture.js';
import { omnish } from './helpers/daemon.js';
import { PROMPT_READY, runIn, type Term } from './helpers/term.js';

const dir = useTestDir();
let fake: FakeAnthropicServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const KEY_ENV = { OMNISH_TEST_LLM_KEY: 'sk-test-key' };
const SHELLS = { bash: '/bin/bash', zsh: '/usr/bin/zsh', fish: '/usr/bin/fish' } as const;
/** The suggestion: its output (fixed-42) shows whether and how often it ran. */
const SUGGESTED = 'echo fixed-$((40+2))';
const FISH_SUGGESTED = 'echo fixed-(math 40+2)';

/** The shell's last history entries, newest last, as the shell lists them. */
const HISTORY: Record<keyof typeof SHELLS, string> = {
  bash: 'fc -ln -2 -2',
  zsh: 'fc -ln -1',
  fish: 'history --max 1',
};

async function typedAtPrompt(t: Term, keys: string, until: RegExp | string): Promise<string> {
  const since = t.mark();
  t.write(keys);
  return t.waitFor(until, { since, timeoutMs: 15_000 });
}

describe('::fix', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it(`puts the suggested command on the ${shell} command line, not run`, async () => {
      fake = await FakeAnthropicServer.start();
      writeFileSync(join(dir.path, 'config.toml'),
        `[llm]\ndefault = "main"\n[llm.main]\nbackend = "anthropic"\nmodel = "m"\nbase_url = "${fake.baseUrl}"\napi_key_env = "OMNISH_TEST_LLM_KEY"\n` +
        '[llm.auto_trigger]\non_nonzero_exit = false\non_stderr_patterns = false\n');
      const suggested = shell === 'fish' ? FISH_SUGGESTED : SUGGESTED;
      fake.enqueue(
        { kind: 'tools', calls: [{ name: 'suggest_command', input: { command: suggested } }] },
        { kind: 'stream', pieces: ['Run this.'] },
      );
      const t = dir.omnish({ env: { ...KEY_ENV, OMNISH_SHELL: SHELLS[shell] }, args: [] });
      await t.waitFor(PROMPT_READY, { timeoutMs: 15_000 });
      await typedAtPrompt(t, '::ask how do I greet\r', '(::fix puts it on your command line)');
      await t.waitFor(PROMPT_READY, { since: t.mark() - 200, timeoutMs: 15_000 });

      // ::fix types the command; nothing runs yet. The user adds to the line, then presses Enter.
      t.write('::fix\r');
      // On the screen, not in the byte stream: fish redraws the line with colours as it goes.
      await t.waitScreen((screen) => screen.some((l) => l.endsWith(suggested)), 'the suggestion on the command line', 15_000);
      const ran = await typedAtPrompt(t, '; echo after-$((1+1))'.replace('$((1+1))', shell === 'fish' ? '(math 1+1)' : '$((1+1))') + '\r', /after-2/);
      expect(ran.match(/fixed-42/g) ?? []).toHaveLength(1);

      const history = await runIn(t, HISTORY[shell]);
      const line = `${suggested}; echo after-${shell === 'fish' ? '(math 1+1)' : '$((1+1))'}`;
      expect(history.split('\n').map((l) => l.trim()).filter(Boolean)).toContain(line);
      expect(history).not.toContain('::');
      t.write('exit\r');
      await t.waitExit();
    });
  }

  it('says so in one line when there is nothing to fix, at the prompt and on the command line', async () => {
    const t = dir.omnish({ env: { OMNISH_SHELL: '/bin/bash' }, args: [] });
    await t.waitFor(PROMPT_READY, { timeoutMs: 15_000 });
    await typedAtPrompt(t, '::fix\r', 'no suggested command in this session yet');
    const none = omnish(dir.path, ['fix', '--session', 'ffffffffffff']);
    expect(none.status).not.toBe(0);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    t.write('exit\r');
    await t.waitExit();
  });
});
