/** `doctor-llm` against a fake OpenAI-compatible server on loopback, driven by the real SDK. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, type OmnishConfig } from '../config/config.js';
import type { LlmBackendConfig } from '../config/llm.js';
import { FakeOpenAiServer } from '../llm/testing/fake-openai.js';
import { doctorLlm } from './doctor-requests.js';

let fake: FakeOpenAiServer;
let tmp: string;
let audit: string;
beforeAll(async () => {
  fake = await FakeOpenAiServer.start();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.requireKey = true;
  tmp = mkdtempSync(join(tmpdir(), 'omnish-doctor-llm-'));
  audit = join(tmp, 'audit.jsonl');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A config with the given backends, the first one the default. */
function config(...backends: Array<Partial<LlmBackendConfig> & { name: string }>): OmnishConfig {
  const c = defaultConfig();
  for (const b of backends) {
    c.llm.backends[b.name] = { kind: 'openai_compat', model: 'fake-model-1', baseUrl: fake.baseUrl, apiKeyEnv: 'K', maxTokens: 100, timeoutSeconds: 5, ...b };
  }
  c.llm.default = backends[0]?.name;
  c.llm.fallback = backends.slice(1).map((b) => b.name);
  return c;
}

/** Nothing answers on port 1: no local server is found. */
const NO_LOCAL = { OMNISH_LLM_PROBE_URL: 'http://127.0.0.1:1/v1' };

describe('doctor-llm', () => {
  it('pings each backend with a fixed 1-token request and audits it as "doctor"', async () => {
    const result = await doctorLlm(config({ name: 'main' }, { name: 'spare', model: 'fake-model-2' }), { K: 'sk-test', ...NO_LOCAL }, undefined, { auditPath: audit });
    expect(result.source).toBe('config');
    expect(result.backends.map((b) => [b.name, b.role, b.ok])).toEqual([['main', 'default', true], ['spare', 'fallback', true]]);
    const bodies = fake.completions.map((r) => r.body as { max_tokens: number; messages: unknown });
    expect(bodies.map((b) => b.max_tokens)).toEqual([1, 1]);
    expect(bodies[0]?.messages).toEqual([{ role: 'user', content: 'ping' }]);
    const entries = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ trigger: 'doctor', sessions: [], charsSent: 4, outcome: 'ok' });
  });

  it('reports a refused key with its reason, and never the key', async () => {
    fake.enqueue({ kind: 'error', status: 401, message: 'Incorrect API key provided' });
    const result = await doctorLlm(config({ name: 'main' }), { K: 'sk-secret-123', ...NO_LOCAL }, undefined, { auditPath: audit });
    const [b] = result.backends;
    expect(b).toMatchObject({ name: 'main', ok: false, reason: 'auth' });
    expect(b?.error).toMatch(/^main: /);
    expect(JSON.stringify(result)).not.toContain('sk-secret-123');
    expect(readFileSync(audit, 'utf8')).toMatch(/"outcome":"error: main: /);
  });

  it('an unset api_key_env is a key problem, found without sending anything', async () => {
    const result = await doctorLlm(config({ name: 'main' }), { ...NO_LOCAL }, undefined, { auditPath: audit });
    expect(result.backends[0]).toMatchObject({ ok: false, reason: 'key' });
    expect(fake.completions).toHaveLength(0);
  });

  it('gives up on a backend that does not answer within the limit', async () => {
    fake.enqueue({ kind: 'hang' });
    const started = Date.now();
    const result = await doctorLlm(config({ name: 'slow' }), { K: 'k', ...NO_LOCAL }, undefined, { auditPath: audit, timeoutMs: 300 });
    expect(result.backends[0]).toMatchObject({ ok: false, reason: 'timeout' });
    expect(result.backends[0]?.error).toContain('no answer within 0.3 s');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('no backend configured or found: source "none" with the reason, nothing sent', async () => {
    const result = await doctorLlm(defaultConfig(), { ...NO_LOCAL }, undefined, { auditPath: audit });
    expect(result).toMatchObject({ source: 'none', backends: [] });
    expect(result.problem).toBe('no LLM backend is configured');
  });

  it('a local server found by the probe is checked as "local"', async () => {
    fake.requireKey = false;
    const result = await doctorLlm(defaultConfig(), { OMNISH_LLM_PROBE_URL: fake.baseUrl }, undefined, { auditPath: audit });
    expect(result.source).toBe('local');
    expect(result.backends[0]).toMatchObject({ name: 'local', model: 'fake-model-1', ok: true });
  });
});
