/** What only the Anthropic backend does (the shared behaviour is in backend.contract.test.ts). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LlmChunk } from '../backend.js';
import { createBackend } from '../registry.js';
import { FakeAnthropicServer } from '../testing/fake-anthropic.js';

let fake: FakeAnthropicServer;
beforeAll(async () => {
  fake = await FakeAnthropicServer.start();
});
afterAll(() => fake.close());

it("a keyless local server gets a placeholder, never the daemon's ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN", async () => {
  const saved = { key: process.env.ANTHROPIC_API_KEY, token: process.env.ANTHROPIC_AUTH_TOKEN };
  process.env.ANTHROPIC_API_KEY = 'sk-ant-from-env';
  process.env.ANTHROPIC_AUTH_TOKEN = 'tok-from-env';
  try {
    const b = createBackend({ name: 'local', kind: 'anthropic', model: 'm', baseUrl: fake.baseUrl, maxTokens: 10, timeoutSeconds: 5 });
    const chunks: LlmChunk[] = [];
    for await (const c of b.stream({ system: '', messages: [{ role: 'user', content: 'hi' }] })) chunks.push(c);
    expect(chunks.at(-1)?.type).toBe('done');
    expect(fake.sentText()).not.toMatch(/sk-ant-from-env|tok-from-env/);
    expect(fake.completions[0]?.body).not.toHaveProperty('system'); // an empty system prompt is left out
  } finally {
    for (const [name, value] of [['ANTHROPIC_API_KEY', saved.key], ['ANTHROPIC_AUTH_TOKEN', saved.token]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

it('without base_url: the public API, whatever ANTHROPIC_BASE_URL says', () => {
  const b = createBackend({ name: 'c', kind: 'anthropic', model: 'm', apiKeyEnv: 'K', maxTokens: 10, timeoutSeconds: 5 });
  expect(b.baseUrl).toBe('https://api.anthropic.com');
});
