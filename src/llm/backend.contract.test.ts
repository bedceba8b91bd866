/**
 * The contract every LlmBackend keeps, run against each backend with its real SDK talking HTTP to a
 * fake server of its provider on loopback (src/llm/testing/). Retries use 1 ms delays.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LlmBackendConfig, LlmBackendKind } from '../config/llm.js';
import { LlmBackendError, type LlmChunk, type LlmDoneChunk, type LlmRequest, type LlmToolCall, type LlmToolDefinition } from './backend.js';
import { createBackend } from './registry.js';
import { withFallback, withRetry, type RetryOptions } from './retry.js';
import { FakeAnthropicServer } from './testing/fake-anthropic.js';
import type { FakeLlmServer, RecordedRequest } from './testing/fake-server.js';
import { FakeOpenAiServer } from './testing/fake-openai.js';

type Fake = FakeLlmServer & { baseUrl: string };
const fakes = {} as Record<LlmBackendKind, Fake>;
const dir = mkdtempSync(join(tmpdir(), 'omnish-llm-'));

beforeAll(async () => {
  fakes.anthropic = await FakeAnthropicServer.start();
  fakes.openai_compat = await FakeOpenAiServer.start();
});
afterAll(async () => {
  await Promise.all(Object.values(fakes).map((f) => f.close()));
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => Object.values(fakes).forEach((f) => f.reset()));

const fast: RetryOptions = { baseDelayMs: 1, maxDelayMs: 2, random: () => 0 };
const question: LlmRequest = { system: 'You explain terminal sessions.', messages: [{ role: 'user', content: 'why did make fail?' }] };

/** The key a request carried, however the SDK sends it (x-api-key, or Authorization: Bearer). */
function sentKey(r: RecordedRequest): string | undefined {
  const header = r.headers['x-api-key'] ?? r.headers.authorization;
  return typeof header === 'string' ? header.replace(/^Bearer /, '') : undefined;
}

/** A URL on a loopback port where nothing listens (the port of a server just closed). */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/v1`;
}

/** Resolves when `condition` holds; fails after `ms`. */
async function waitFor(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Drains a stream; `error` is what it threw, if anything. */
async function collect(stream: AsyncIterable<LlmChunk>): Promise<{ texts: string[]; calls: LlmToolCall[]; done?: LlmDoneChunk; error?: LlmBackendError }> {
  const texts: string[] = [];
  const calls: LlmToolCall[] = [];
  let done: LlmDoneChunk | undefined;
  try {
    for await (const chunk of stream) {
      if (chunk.type === 'text') texts.push(chunk.text);
      else if (chunk.type === 'tool-call') calls.push(chunk.call);
      else done = chunk;
    }
  } catch (error) {
    expect(error).toBeInstanceOf(LlmBackendError);
    return { texts, calls, done, error: error as LlmBackendError };
  }
  return { texts, calls, done };
}

const SEARCH_TOOL: LlmToolDefinition = {
  name: 'search',
  description: 'Find recorded commands by words of their output.',
  inputSchema: { type: 'object', properties: { query: { type: 'string' }, limit: { type: 'integer' } }, required: ['query'] },
};

describe.each(['anthropic', 'openai_compat'] as const)('%s backend (real SDK, fake server)', (kind) => {
  const fake = (): Fake => fakes[kind];
  const backend = (over: Partial<LlmBackendConfig> = {}) =>
    createBackend(
      { name: 'claude', kind, model: 'model-x', baseUrl: fake().baseUrl, apiKeyEnv: 'TEST_KEY', maxTokens: 256, timeoutSeconds: 5, ...over },
      { env: { TEST_KEY: 'sk-test-123' } },
    );

  it('streams the answer in pieces, in order, then usage, model and stop reason', async () => {
    fake().enqueue({ kind: 'stream', pieces: ['The linker ', 'cannot find ', '-lssl.'], usage: { input: 120, output: 9 }, pieceDelayMs: 5 });
    const { texts, done, error } = await collect(backend().stream(question));
    expect(error).toBeUndefined();
    expect(texts).toEqual(['The linker ', 'cannot find ', '-lssl.']);
    expect(done).toEqual({ type: 'done', usage: { inputTokens: 120, outputTokens: 9 }, model: 'model-x', stopReason: 'end', providerStopReason: kind === 'anthropic' ? 'end_turn' : 'stop' });
  });

  it("sends the model, system prompt, messages, max tokens and key in the provider's shape", async () => {
    await collect(backend().stream({ ...question, maxTokens: 77 }));
    const [req] = fake().completions;
    expect(sentKey(req as RecordedRequest)).toBe('sk-test-123');
    const body = req?.body as Record<string, unknown>;
    expect(body).toMatchObject({ model: 'model-x', stream: true });
    if (kind === 'anthropic') {
      expect(body).toMatchObject({ system: question.system, messages: question.messages, max_tokens: 77 });
    } else {
      expect(body).toMatchObject({ messages: [{ role: 'system', content: question.system }, ...question.messages], max_tokens: 77, stream_options: { include_usage: true } });
    }
  });

  it('tool use: a streamed call with its arguments, then its result is sent back and the answer streams', async () => {
    fake().enqueue(
      { kind: 'tools', pieces: ['Let me look. '], calls: [{ name: 'search', input: { query: 'ENOSPC "disk"', limit: 5 }, id: 'call-1' }] },
      { kind: 'stream', pieces: ['The disk ', 'is full.'] },
    );
    const withTools: LlmRequest = { ...question, tools: [SEARCH_TOOL] };
    const first = await collect(backend().stream(withTools));
    expect(first.error).toBeUndefined();
    expect(first.texts.join('')).toBe('Let me look. ');
    expect(first.calls).toEqual([{ id: 'call-1', name: 'search', input: { query: 'ENOSPC "disk"', limit: 5 } }]);
    expect(first.done?.stopReason).toBe('tool_use');
    expect(fake().toolsOf(fake().completions[0]!)).toEqual(['search']);
    const second = await collect(backend().stream({
      ...withTools,
      messages: [
        ...question.messages,
        { role: 'assistant', content: 'Let me look. ', toolCalls: first.calls },
        { role: 'user', content: '', toolResults: [{ id: 'call-1', content: 'found: make ENOSPC in session ab12' }] },
      ],
    }));
    expect(second.texts.join('')).toBe('The disk is full.');
    expect(second.done?.stopReason).toBe('end');
    expect(fake().toolResultsOf(fake().completions[1]!)).toEqual([{ id: 'call-1', content: 'found: make ENOSPC in session ab12', isError: false }]);
  });

  it('several tool calls in one turn come in order; toolChoice none is sent as the provider spells it', async () => {
    fake().enqueue({ kind: 'tools', calls: [{ name: 'search', input: { query: 'a' } }, { name: 'list_sessions', input: {} }] });
    const { calls } = await collect(backend().stream({ ...question, tools: [SEARCH_TOOL, { ...SEARCH_TOOL, name: 'list_sessions' }] }));
    expect(calls.map((c) => [c.name, c.input])).toEqual([['search', { query: 'a' }], ['list_sessions', {}]]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    await collect(backend().stream({ ...question, tools: [SEARCH_TOOL], toolChoice: 'none' }));
    const body = fake().completions[1]!.body as { tool_choice?: unknown };
    expect(body.tool_choice).toEqual(kind === 'anthropic' ? { type: 'none' } : 'none');
  });

  it('a server that refuses tools: the request goes again without them, and later ones too', async () => {
    fake().refuseTools = true;
    try {
      fake().enqueue({ kind: 'stream', pieces: ['plain answer'] }, { kind: 'stream', pieces: ['again'] });
      const b = backend();
      const { texts, error } = await collect(b.stream({ ...question, tools: [SEARCH_TOOL] }));
      expect(error).toBeUndefined();
      expect(texts).toEqual(['plain answer']);
      expect(b.supportsTools).toBe(false);
      expect(fake().completions.map((r) => fake().toolsOf(r).length)).toEqual([1, 0]);
      await collect(b.stream({ ...question, tools: [SEARCH_TOOL] }));
      expect(fake().completions).toHaveLength(3); // no second refusal
    } finally {
      fake().refuseTools = false;
    }
  });

  it('tools = false: no tools are sent, and tool turns of the conversation travel as text', async () => {
    const b = backend({ tools: false });
    expect(b.supportsTools).toBe(false);
    await collect(b.stream({
      ...question,
      tools: [SEARCH_TOOL],
      messages: [
        ...question.messages,
        { role: 'assistant', content: '', toolCalls: [{ id: 'x1', name: 'search', input: { query: 'oom' } }] },
        { role: 'user', content: 'go on', toolResults: [{ id: 'x1', content: 'RESULT-TEXT-42' }] },
      ],
    }));
    const req = fake().completions[0]!;
    expect(fake().toolsOf(req)).toEqual([]);
    expect(fake().toolResultsOf(req)).toEqual([]);
    expect(req.rawBody).toContain('RESULT-TEXT-42');
    expect(req.rawBody).toContain('[tool call search');
  });

  it('reports an answer cut at the length limit', async () => {
    fake().enqueue({ kind: 'stream', pieces: ['long'], stopReason: kind === 'anthropic' ? 'max_tokens' : 'length' });
    expect((await collect(backend().stream(question))).done?.stopReason).toBe('max_tokens');
  });

  it('401: a clear error naming the key source; api_key_cmd is run again once', async () => {
    const counter = join(dir, `runs-${kind}`);
    const cmd = `echo run >> ${counter}; echo "key-$(wc -l < ${counter} | tr -d ' ')"`;
    fake().enqueue({ kind: 'error', status: 401, message: 'invalid x-api-key' }, { kind: 'error', status: 401 });
    const { error } = await collect(withRetry(backend({ apiKeyEnv: undefined, apiKeyCmd: cmd }), question, fast));
    expect(error?.message).toBe('claude: authentication failed (401): check api_key_cmd');
    expect(error).toMatchObject({ status: 401, reason: 'auth', retryable: false, backend: 'claude' });
    expect(readFileSync(counter, 'utf8')).toBe('run\nrun\n');
    expect(fake().completions.map(sentKey)).toEqual(['key-1', 'key-2']);
  });

  it('401 with api_key_env: no second attempt, the message names the variable', async () => {
    fake().enqueue({ kind: 'error', status: 401 });
    const { error } = await collect(withRetry(backend(), question, fast));
    expect(error?.message).toBe('claude: authentication failed (401): check api_key_env (TEST_KEY)');
    expect(fake().completions).toHaveLength(1);
  });

  it('401 then success: the re-run of api_key_cmd picks up a rotated key', async () => {
    const counter = join(dir, `rotate-${kind}`);
    const cmd = `echo run >> ${counter}; echo "key-$(wc -l < ${counter} | tr -d ' ')"`;
    fake().enqueue({ kind: 'error', status: 401 }, { kind: 'stream', pieces: ['ok'] });
    const b = backend({ apiKeyEnv: undefined, apiKeyCmd: cmd });
    expect((await collect(b.stream(question))).texts).toEqual(['ok']);
    expect((await collect(b.stream(question))).texts).toEqual(['Hello', ', ', 'world', '.']);
    expect(fake().completions.map(sentKey)).toEqual(['key-1', 'key-2', 'key-2']); // cached after the re-run
  });

  it('429 with retry-after, then success: retried after the delay the server asked for', async () => {
    fake().enqueue({ kind: 'error', status: 429, headers: { 'retry-after': '0' } }, { kind: 'stream', pieces: ['fine'] });
    const failures: Array<{ retryInMs?: number; status?: number }> = [];
    const { texts, error } = await collect(withRetry(backend(), question, { ...fast, onFailure: (f) => failures.push({ retryInMs: f.retryInMs, status: f.error.status }) }));
    expect(error).toBeUndefined();
    expect(texts).toEqual(['fine']);
    expect(failures).toEqual([{ retryInMs: 0, status: 429 }]);
    expect(fake().completions).toHaveLength(2);
  });

  it('500: retried, then the error after 3 attempts', async () => {
    fake().enqueue(...Array.from({ length: 3 }, () => ({ kind: 'error' as const, status: 500, message: 'internal trouble' })));
    const { error } = await collect(withRetry(backend(), question, fast));
    expect(error).toMatchObject({ status: 500, reason: 'server', retryable: true });
    expect(error?.message).toBe('claude: server error (500): internal trouble');
    expect(fake().completions).toHaveLength(3);
  });

  it('a stream broken after some text: an error, and the text is not repeated', async () => {
    fake().enqueue({ kind: 'cut', pieces: ['Partial ', 'answer'] }, { kind: 'stream', pieces: ['must not be sent'] });
    const { texts, done, error } = await collect(withRetry(backend(), question, fast));
    expect(texts).toEqual(['Partial ', 'answer']);
    expect(done).toBeUndefined();
    expect(error).toMatchObject({ retryable: true });
    expect(error?.reason).toMatch(/^(network|incomplete)$/);
    expect(fake().completions).toHaveLength(1);
  });

  it('a stream broken before any text: retried', async () => {
    fake().enqueue({ kind: 'cut', pieces: [] }, { kind: 'stream', pieces: ['second try'] });
    expect((await collect(withRetry(backend(), question, fast))).texts).toEqual(['second try']);
    expect(fake().completions).toHaveLength(2);
  });

  it('no response within timeout_seconds: a retryable timeout error, quickly', async () => {
    fake().enqueue({ kind: 'hang' });
    const started = Date.now();
    const { error } = await collect(backend({ timeoutSeconds: 0.3 }).stream(question));
    expect(error).toMatchObject({ reason: 'timeout', retryable: true });
    expect(error?.message).toMatch(/^claude: no response from http:\/\/127\.0\.0\.1:\d+.* within 0\.3 s/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a stream that stalls after some text times out without repeating it', async () => {
    fake().enqueue({ kind: 'hang', pieces: ['Half'] }, { kind: 'stream', pieces: ['must not be sent'] });
    const { texts, error } = await collect(withRetry(backend({ timeoutSeconds: 0.3 }), question, fast));
    expect(texts).toEqual(['Half']);
    expect(error).toMatchObject({ reason: 'timeout' });
    expect(fake().completions).toHaveLength(1);
  });

  it('cancelled by the caller: an "aborted" error, neither retried nor passed to a fallback', async () => {
    fake().enqueue({ kind: 'stream', pieces: ['a', 'b', 'c', 'd'], pieceDelayMs: 50 });
    const controller = new AbortController();
    const stream = withFallback([backend(), backend({ name: 'other' })], { ...question, signal: controller.signal }, fast);
    const texts: string[] = [];
    await expect((async () => {
      for await (const chunk of stream) {
        if (chunk.type === 'text') texts.push(chunk.text);
        controller.abort();
      }
    })()).rejects.toMatchObject({ reason: 'aborted', message: 'claude: request cancelled' });
    expect(texts).toEqual(['a']);
    expect(fake().completions).toHaveLength(1);
  });

  it('a consumer that stops reading closes the HTTP request', async () => {
    fake().enqueue({ kind: 'stream', pieces: ['a', 'b', 'c'], pieceDelayMs: 100 });
    for await (const chunk of backend().stream(question)) {
      expect(chunk).toEqual({ type: 'text', text: 'a' });
      break;
    }
    await waitFor(() => fake().completions[0]?.closedEarly === true);
  });

  it('falls back to the other backend when this one keeps failing', async () => {
    const otherKind: LlmBackendKind = kind === 'anthropic' ? 'openai_compat' : 'anthropic';
    fake().enqueue(...Array.from({ length: 3 }, () => ({ kind: 'error' as const, status: 503 })));
    fakes[otherKind].enqueue({ kind: 'stream', pieces: ['from ', 'the fallback'] });
    const other = createBackend(
      { name: 'spare', kind: otherKind, model: 'model-y', baseUrl: fakes[otherKind].baseUrl, apiKeyEnv: 'K', maxTokens: 100, timeoutSeconds: 5 },
      { env: { K: 'sk-other' } },
    );
    const stream = withFallback([backend(), other], question, fast);
    const { texts, done, error } = await collect(stream);
    expect(error).toBeUndefined();
    expect(texts).toEqual(['from ', 'the fallback']);
    expect(done?.model).toBe('model-y');
    expect(stream.backend?.name).toBe('spare');
    expect(stream.failures.map((f) => f.status)).toEqual([503]);
    expect(fake().completions).toHaveLength(3);
  });

  it('when every backend fails, one error lists each reason', async () => {
    fake().defaultBehaviour = { kind: 'error', status: 404, message: 'model: model-x' };
    try {
      const { error } = await collect(withFallback([backend(), backend({ name: 'second', apiKeyEnv: 'UNSET' })], question, fast));
      expect(error?.message).toMatch(/^claude: not found \(404\): check model "model-x" and base_url .*; then second: api_key_env: \$UNSET is not set/);
      expect(fake().completions).toHaveLength(1); // 404 is not retried; the second never sent anything
    } finally {
      fake().defaultBehaviour = { kind: 'stream', pieces: ['Hello', ', ', 'world', '.'] };
    }
  });

  it('a server that cannot be reached: a retryable network error naming it', async () => {
    const baseUrl = await closedPortUrl();
    const { error } = await collect(backend({ baseUrl }).stream(question));
    expect(error).toMatchObject({ reason: 'network', retryable: true });
    expect(error?.message).toContain(`claude: connection to ${baseUrl} failed: `);
    expect(error?.message).toContain('ECONNREFUSED');
  });
});
