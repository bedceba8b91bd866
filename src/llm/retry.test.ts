/** Retry and fallback logic against stand-in backends (the real SDKs are in backend.contract.test.ts). */
import { describe, expect, it } from 'vitest';
import { LlmBackendError, type LlmErrorReason } from '../common/errors.js';
import type { LlmBackend, LlmChunk, LlmRequest } from './backend.js';
import { parseRetryAfterMs } from './errors.js';
import { AllBackendsFailedError, retryDelayMs, withFallback, withRetry } from './retry.js';

const request: LlmRequest = { system: '', messages: [{ role: 'user', content: 'q' }] };
const done: LlmChunk = { type: 'done', usage: { inputTokens: 1, outputTokens: 1 }, model: 'm', stopReason: 'end', providerStopReason: 'stop' };

function error(backend: string, reason: LlmErrorReason, retryable: boolean, retryAfterMs?: number): LlmBackendError {
  return new LlmBackendError(`${backend}: ${reason}`, { backend, reason, retryable, retryAfterMs });
}

/** A backend that plays one script per call: text pieces, then an error or done. */
function scripted(name: string, scripts: Array<{ texts?: string[]; fail?: LlmBackendError }>): LlmBackend & { calls: number } {
  const b = {
    name, kind: 'openai_compat' as const, model: 'm', baseUrl: 'http://x', supportsTools: false, calls: 0,
    async *stream(): AsyncGenerator<LlmChunk> {
      const script = scripts[b.calls++] ?? {};
      for (const text of script.texts ?? []) yield { type: 'text', text };
      if (script.fail) throw script.fail;
      yield done;
    },
  };
  return b;
}

async function drain(stream: AsyncIterable<LlmChunk>): Promise<string> {
  let text = '';
  for await (const c of stream) if (c.type === 'text') text += c.text;
  return text;
}

const fast = { baseDelayMs: 1, maxDelayMs: 2 };

describe('retryDelayMs', () => {
  it('doubles from the base, capped, with jitter in [0.5, 1)', () => {
    const e = error('a', 'server', true);
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, e, { random: () => 0 }))).toEqual([250, 500, 1000, 2000, 4000]);
    expect(retryDelayMs(1, e, { random: () => 0.999 })).toBe(500);
    expect(retryDelayMs(10, e, { random: () => 0.999 })).toBe(7996);
  });

  it("uses the server's retry-after, capped", () => {
    expect(retryDelayMs(1, error('a', 'rate_limit', true, 2000))).toBe(2000);
    expect(retryDelayMs(1, error('a', 'rate_limit', true, 600_000))).toBe(20_000);
    expect(retryDelayMs(1, error('a', 'rate_limit', true, 600_000), { maxRetryAfterMs: 50 })).toBe(50);
  });
});

describe('parseRetryAfterMs', () => {
  it('reads retry-after-ms, retry-after in seconds, or an HTTP date', () => {
    expect(parseRetryAfterMs(new Headers({ 'retry-after-ms': '150', 'retry-after': '9' }))).toBe(150);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfterMs(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' }), now)).toBe(5000);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(parseRetryAfterMs(undefined)).toBeUndefined();
  });
});

describe('withRetry', () => {
  it('retries retryable errors up to 3 attempts in all', async () => {
    const b = scripted('a', [{ fail: error('a', 'server', true) }, { fail: error('a', 'network', true) }, { texts: ['ok'] }]);
    expect(await drain(withRetry(b, request, fast))).toBe('ok');
    const c = scripted('c', Array.from({ length: 5 }, () => ({ fail: error('c', 'timeout', true) })));
    await expect(drain(withRetry(c, request, fast))).rejects.toMatchObject({ reason: 'timeout' });
    expect(c.calls).toBe(3);
  });

  it('does not retry what cannot succeed, nor anything after text was yielded', async () => {
    const auth = scripted('a', [{ fail: error('a', 'auth', false) }, { texts: ['never'] }]);
    await expect(drain(withRetry(auth, request, fast))).rejects.toMatchObject({ reason: 'auth' });
    expect(auth.calls).toBe(1);
    const midway = scripted('b', [{ texts: ['half'], fail: error('b', 'network', true) }, { texts: ['again'] }]);
    const seen: string[] = [];
    await expect((async () => {
      for await (const c of withRetry(midway, request, fast)) if (c.type === 'text') seen.push(c.text);
    })()).rejects.toMatchObject({ reason: 'network' });
    expect(seen).toEqual(['half']);
    expect(midway.calls).toBe(1);
  });

  it('reports each failure with the delay before the next attempt', async () => {
    const b = scripted('a', [{ fail: error('a', 'rate_limit', true, 3) }, { fail: error('a', 'server', true) }, { fail: error('a', 'server', true) }]);
    const seen: Array<[number, number | undefined]> = [];
    await expect(drain(withRetry(b, request, { ...fast, onFailure: (f) => seen.push([f.attempt, f.retryInMs]) }))).rejects.toThrow();
    expect(seen).toEqual([[1, 3], [2, expect.any(Number)], [3, undefined]]);
  });

  it('a cancel during the backoff ends the wait and the retries', async () => {
    const controller = new AbortController();
    const b = scripted('a', [{ fail: error('a', 'server', true) }, { texts: ['never'] }]);
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);
    await expect(drain(withRetry(b, { ...request, signal: controller.signal }, { baseDelayMs: 60_000, random: () => 0 })))
      .rejects.toMatchObject({ reason: 'aborted', message: 'a: request cancelled' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(b.calls).toBe(1);
  });
});

describe('withFallback', () => {
  it('tries the next backend when one fails before answering, and says which answered', async () => {
    const a = scripted('a', [{ fail: error('a', 'auth', false) }]);
    const b = scripted('b', [{ texts: ['from b'] }]);
    const stream = withFallback([a, b], request, fast);
    expect(stream.backend).toBeUndefined();
    expect(await drain(stream)).toBe('from b');
    expect(stream.backend).toBe(b);
    expect(stream.failures.map((f) => f.backend)).toEqual(['a']);
  });

  it('throws the only backend\'s error as is, or one error naming every failure', async () => {
    const only = error('a', 'auth', false);
    await expect(drain(withFallback([scripted('a', [{ fail: only }])], request, fast))).rejects.toBe(only);
    const all = withFallback([scripted('a', [{ fail: error('a', 'auth', false) }]), scripted('b', [{ fail: error('b', 'key', false) }])], request, fast);
    const err = await drain(all).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(AllBackendsFailedError);
    expect((err as Error).message).toBe('a: auth; then b: key');
  });

  it('does not fall back after text was yielded, nor after a cancel', async () => {
    const b = scripted('b', [{ texts: ['never'] }]);
    await expect(drain(withFallback([scripted('a', [{ texts: ['x'], fail: error('a', 'network', true) }]), b], request, fast))).rejects.toMatchObject({ backend: 'a' });
    await expect(drain(withFallback([scripted('a', [{ fail: error('a', 'aborted', false) }]), b], request, fast))).rejects.toMatchObject({ reason: 'aborted' });
    expect(b.calls).toBe(0);
  });
});
