import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultLlmConfig, type LlmConfig } from '../config/llm.js';
import type { LlmChunk } from './backend.js';
import { NoBackendError, probeLocalServer, resolveBackends } from './registry.js';
import { FakeOpenAiServer } from './testing/fake-openai.js';

let fake: FakeOpenAiServer;
let hung: Server;
let hungUrl: string;
let closedUrl: string;

beforeAll(async () => {
  fake = await FakeOpenAiServer.start();
  fake.requireKey = false; // a local server, as Ollama is
  hung = createServer(() => undefined); // accepts, never answers
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  hungUrl = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/v1`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/v1`;
  await new Promise((resolve) => closed.close(resolve));
});
afterAll(async () => {
  await fake.close();
  hung.closeAllConnections();
  await new Promise((resolve) => hung.close(resolve));
});

const none = defaultLlmConfig();
const opts = () => ({ probeUrl: closedUrl, configPath: '/home/u/.config/omnish/config.toml' });

describe('resolveBackends with backends configured', () => {
  it('builds the default and the fallbacks in order', async () => {
    const config: LlmConfig = {
      ...defaultLlmConfig(),
      default: 'claude',
      fallback: ['local', 'openai'],
      backends: {
        claude: { name: 'claude', kind: 'anthropic', model: 'claude-sonnet-4-5', apiKeyCmd: 'pass show anthropic', maxTokens: 1024, timeoutSeconds: 60 },
        openai: { name: 'openai', kind: 'openai_compat', model: 'gpt-4o-mini', apiKeyEnv: 'OPENAI_API_KEY', maxTokens: 1024, timeoutSeconds: 60 },
        local: { name: 'local', kind: 'openai_compat', model: 'llama3.2', baseUrl: 'http://localhost:11434/v1', maxTokens: 1024, timeoutSeconds: 60 },
      },
    };
    const { primary, fallbacks } = await resolveBackends(config, {}, opts());
    expect([primary, ...fallbacks].map((b) => [b.name, b.kind, b.model, b.baseUrl])).toEqual([
      ['claude', 'anthropic', 'claude-sonnet-4-5', 'https://api.anthropic.com'],
      ['local', 'openai_compat', 'llama3.2', 'http://localhost:11434/v1'],
      ['openai', 'openai_compat', 'gpt-4o-mini', 'https://api.openai.com/v1'],
    ]);
  });
});

describe('resolveBackends with nothing configured', () => {
  it('ANTHROPIC_API_KEY: Anthropic with a current model', async () => {
    const { primary, fallbacks } = await resolveBackends(none, { ANTHROPIC_API_KEY: 'sk-ant' }, opts());
    expect([primary.kind, primary.model, primary.baseUrl]).toEqual(['anthropic', 'claude-sonnet-4-5', 'https://api.anthropic.com']);
    expect(fallbacks).toEqual([]);
  });

  it('OPENAI_API_KEY: OpenAI; both keys: Anthropic with OpenAI as its fallback', async () => {
    const openai = await resolveBackends(none, { OPENAI_API_KEY: 'sk-o' }, opts());
    expect([openai.primary.kind, openai.primary.model, openai.primary.baseUrl]).toEqual(['openai_compat', 'gpt-4o-mini', 'https://api.openai.com/v1']);
    const both = await resolveBackends(none, { ANTHROPIC_API_KEY: 'a', OPENAI_API_KEY: 'o' }, opts());
    expect([both.primary.name, ...both.fallbacks.map((b) => b.name)]).toEqual(['anthropic', 'openai']);
  });

  it('no key: a local OpenAI-compatible server that answers, with its first model, usable without a key', async () => {
    const { primary } = await resolveBackends(none, {}, { ...opts(), probeUrl: fake.baseUrl });
    expect([primary.name, primary.kind, primary.model, primary.baseUrl]).toEqual(['local', 'openai_compat', 'fake-model-1', fake.baseUrl]);
    const texts: string[] = [];
    for await (const c of primary.stream({ system: '', messages: [{ role: 'user', content: 'hi' }] }) as AsyncIterable<LlmChunk>) {
      if (c.type === 'text') texts.push(c.text);
    }
    expect(texts.join('')).toBe('Hello, world.');
    expect(fake.completions.at(-1)?.body).toMatchObject({ model: 'fake-model-1' });
  });

  it('nothing anywhere: NoBackendError with a TOML snippet and the config path, fast', async () => {
    const started = Date.now();
    const err = await resolveBackends(none, {}, opts()).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(NoBackendError);
    const message = (err as Error).message;
    expect(message).toContain('/home/u/.config/omnish/config.toml');
    expect(message).toContain('[llm.claude]\nbackend = "anthropic"\nmodel = "claude-sonnet-4-5"\napi_key_cmd = "pass show anthropic"');
    expect(message).toContain('ANTHROPIC_API_KEY or OPENAI_API_KEY');
    expect(err).toMatchObject({ reason: 'no_backend', retryable: false });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a local server without models: NoBackendError saying to pull one', async () => {
    fake.models = [];
    try {
      await expect(resolveBackends(none, {}, { ...opts(), probeUrl: fake.baseUrl })).rejects.toThrow(/has no model; pull one/);
    } finally {
      fake.models = ['fake-model-1', 'fake-model-2'];
    }
  });

  it('a local server that hangs costs at most the probe timeout', async () => {
    const started = Date.now();
    await expect(resolveBackends(none, {}, { ...opts(), probeUrl: hungUrl, probeTimeoutMs: 200 })).rejects.toBeInstanceOf(NoBackendError);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('probeLocalServer', () => {
  it('lists model ids, or undefined for anything that is not a model list', async () => {
    expect(await probeLocalServer(fake.baseUrl, 1000)).toEqual(['fake-model-1', 'fake-model-2']);
    expect(await probeLocalServer(`${fake.baseUrl}/`, 1000)).toEqual(['fake-model-1', 'fake-model-2']);
    expect(await probeLocalServer(fake.origin, 1000)).toBeUndefined(); // /models: a 404
    expect(await probeLocalServer(closedUrl, 1000)).toBeUndefined();
  });
});
