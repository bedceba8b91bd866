/**
 * Auto-explanations: a failing command is explained by the LLM without being asked, shown above an
 * intact prompt; one that arrives while a full-screen program runs waits for the next prompt.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer } from '../src/llm/testing/fake-anthropic.js';
import { omnish as omnishCli } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { quitVim, runIn, waitUntil, type Term } from './helpers/term.js';

const dir = useTestDir();
let fake: FakeAnthropicServer;
beforeEach(async () => {
  fake = await FakeAnthropicServer.start();
  writeFileSync(
    join(dir.path, 'config.toml'),
    `[llm]\ndefault = "claude"\n[llm.claude]\nbackend = "anthropic"\nmodel = "claude-test"\nbase_url = "${fake.baseUrl}"\napi_key_env = "OMNISH_TEST_LLM_KEY"\n[llm.auto_trigger]\ncooldown_seconds = 0\n`,
  );
});
afterEach(async () => {
  await fake.close();
});

const PROMPT_READY = /\x1b\]133;B;omnish=[0-9a-f]+\x07/;

async function start(): Promise<Term> {
  const t = dir.omnish({ env: { OMNISH_TEST_LLM_KEY: 'sk-test', PS1: 'PROMPT$ ' }, args: [] });
  await t.waitFor(PROMPT_READY);
  return t;
}

describe('auto-explanations', () => {
  it('explains ls /nonexistent above an intact prompt', async () => {
    fake.enqueue({ kind: 'stream', pieces: ['The path ', '/nonexistent does not exist.'] });
    const t = await start();
    t.write('ls /nonexistent\r');
    const screen = await t.waitScreen((s) => s.some((l) => l.includes('/nonexistent does not exist.')), 'the explanation');
    const sent = fake.completions[0]!.rawBody;
    expect(sent).toContain('ls /nonexistent');
    // The prompt is drawn again below the explanation and works.
    const last = screen.filter((l) => l.trim() !== '').pop();
    expect(last).toMatch(/PROMPT\$ $|root@.*# $|PROMPT\$$|#$/);
    expect(await runIn(t, 'echo still-$((2+2))')).toContain('still-4');
  });

  it('an explanation raised while vim runs waits for the next prompt', async () => {
    // Slow enough that vim is up long before the answer is complete.
    fake.enqueue({ kind: 'stream', pieces: ['Held ', 'until ', 'the prompt.'], pieceDelayMs: 400 });
    const t = await start();
    t.write('ls /nonexistent\r');
    t.write('vim -u NONE -N -n -i NONE\r');
    await t.waitScreen((s) => s.some((l) => l.includes('for version info')), 'vim to draw');
    // The answer has been sent by the fake server and, by now, reached the client.
    await waitUntil(() => fake.completions.length === 1, 'the LLM request');
    // Give the answer time to be complete and delivered (checked through the audit log), then make
    // sure nothing of it reached the screen while vim runs.
    await waitUntil(() => omnishCli(dir.path, ['audit', '--json']).stdout.includes('"outcome": "ok"'), 'the explanation to be answered');
    expect(t.text()).not.toContain('Held until the prompt.');
    await quitVim(t);
    await t.waitScreen((s) => s.some((l) => l.includes('Held until the prompt.')), 'the explanation at the prompt');
  });
});
