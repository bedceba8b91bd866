/** What only the OpenAI-compatible backend does (the shared behaviour is in backend.contract.test.ts). */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { LlmChunk } from '../backend.js';
import { createBackend } from '../registry.js';
import { FakeOpenAiServer } from '../testing/fake-openai.js';
import { tokenParameter } from './backend.js';

let fake: FakeOpenAiServer;
beforeAll(async () => {
  fake = await FakeOpenAiServer.start();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.rejectStreamOptions = false;
  fake.requireKey = true;
});

const question = { system: '', messages: [{ role: 'user' as const, content: 'hi' }] };

async function drain(stream: AsyncIterable<LlmChunk>): Promise<LlmChunk[]> {
  const out: LlmChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

it('a server that refuses stream_options: asked again without it, and never again with it', async () => {
  fake.rejectStreamOptions = true;
  const b = createBackend({ name: 'old', kind: 'openai_compat', model: 'm', baseUrl: fake.baseUrl, apiKeyEnv: 'K', maxTokens: 10, timeoutSeconds: 5 }, { env: { K: 'k' } });
  const chunks = await drain(b.stream(question));
  expect(chunks.at(-1)).toMatchObject({ type: 'done', usage: { inputTokens: 0, outputTokens: 0 } }); // no usage without the option
  await drain(b.stream(question));
  expect(fake.completions.map((r) => 'stream_options' in (r.body as object))).toEqual([true, false, false]);
});

it('no system message when the system prompt is empty', async () => {
  const b = createBackend({ name: 'x', kind: 'openai_compat', model: 'm', baseUrl: fake.baseUrl, apiKeyEnv: 'K', maxTokens: 10, timeoutSeconds: 5 }, { env: { K: 'k' } });
  await drain(b.stream(question));
  expect((fake.completions[0]?.body as { messages: unknown }).messages).toEqual([{ role: 'user', content: 'hi' }]);
});

it("a keyless local server gets a placeholder, never the daemon's OPENAI_API_KEY", async () => {
  fake.requireKey = false;
  const saved = process.env.OPENAI_API_KEY;
  process.env.OPENAI_API_KEY = 'sk-from-the-environment';
  try {
    const b = createBackend({ name: 'local', kind: 'openai_compat', model: 'm', baseUrl: fake.baseUrl, maxTokens: 10, timeoutSeconds: 5 });
    expect((await drain(b.stream(question))).at(-1)?.type).toBe('done');
    expect(fake.sentText()).not.toContain('sk-from-the-environment');
  } finally {
    if (saved === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = saved;
  }
});

it('OpenAI itself gets max_completion_tokens, compatible servers max_tokens', () => {
  expect(tokenParameter('https://api.openai.com/v1')).toBe('max_completion_tokens');
  expect(tokenParameter('http://127.0.0.1:11434/v1')).toBe('max_tokens');
  expect(tokenParameter('https://openrouter.ai/api/v1')).toBe('max_tokens');
});
