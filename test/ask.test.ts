/**
 * Asking end to end: omnish's daemon builds the context from a real recorded session, redacts it,
 * and sends it with the real Anthropic SDK to a loopback server speaking the Messages API (SSE);
 * the answer streams back to `omnish ask` and `::ask`, and every request lands in the audit log.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer } from '../src/llm/testing/fake-anthropic.js';
import { omnishAsync, sessions } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { PROMPT_READY, runIn, waitUntil } from './helpers/term.js';

const dir = useTestDir();
let fake: FakeAnthropicServer;

beforeEach(async () => {
  fake = await FakeAnthropicServer.start();
});
afterEach(async () => {
  await fake.close();
});


const SECRET = 'ghp_0123456789abcdefABCDEF0123456789abcd';
/** More secrets a terminal shows: an AWS key pair, a database URL with a password, a private key. */
const AWS_ID = 'AKIAIOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DB_PASSWORD = 'S3cr3tPassw0rd';
const KEY_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7';
const PLANT = [
  `export GITHUB_TOKEN=${SECRET}; echo "token is $GITHUB_TOKEN"`,
  `printf '%s\\n' 'aws_access_key_id = ${AWS_ID}' 'aws_secret_access_key = ${AWS_SECRET}'`,
  `echo 'DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/prod'`,
  `printf '%s\\n' '-----BEGIN PRIVATE KEY-----' '${KEY_BODY}' '-----END PRIVATE KEY-----'`,
];
const KEY_ENV = { OMNISH_TEST_LLM_KEY: 'sk-ant-test-key' };

function configure(): void {
  writeFileSync(
    join(dir.path, 'config.toml'),
    `[llm]\ndefault = "claude"\n[llm.claude]\nbackend = "anthropic"\nmodel = "claude-test"\nbase_url = "${fake.baseUrl}"\napi_key_env = "OMNISH_TEST_LLM_KEY"\n` +
      // Only what the user asks goes out in these tests (auto-explanations are test/explain.test.ts).
      '[llm.auto_trigger]\non_nonzero_exit = false\non_stderr_patterns = false\n',
  );
}

describe('omnish ask', () => {
  // Asked right after the shell starts, before its session has registered with the daemon that
  // the shell started on demand: the daemon waits for the session instead of failing.
  it('::ask streams the answer at the prompt and returns to a clean prompt', async () => {
    configure();
    fake.enqueue({ kind: 'stream', pieces: ['Because ', 'of reasons.'] });
    const t = dir.omnish({ env: KEY_ENV, args: [] });
    // Typed before omnish is up, a line would be echoed by the terminal itself: wait for the first prompt.
    await t.waitFor(PROMPT_READY);
    const before = t.mark();
    await runIn(t, 'false');
    // `::` is taken only at a ready prompt (mark B); typed earlier it would go to the shell.
    await t.waitFor(new RegExp(`${PROMPT_READY.source}$`), { since: before });
    const since = t.mark();
    t.write('::ask what happened\r');
    await t.waitFor('Because of reasons.', { since });
    // Back at a prompt that works: the next command runs normally.
    expect(await runIn(t, 'echo after-$((1+1))')).toContain('after-2');
  });
  it('Ctrl-C stops a streaming ::ask and gives the prompt back', async () => {
    configure();
    fake.enqueue({ kind: 'hang', pieces: ['Thinking about it'] });
    const t = dir.omnish({ env: KEY_ENV, args: [] });
    await t.waitFor(PROMPT_READY);
    const since = t.mark();
    t.write('::ask what now\r');
    await t.waitFor('Thinking about it', { since });
    t.write('\x03');
    await t.waitFor('(stopped)', { since });
    expect(await runIn(t, 'echo back-$((3+3))')).toContain('back-6');
    await waitUntil(() => fake.completions[0]?.closedEarly === true, 'the request to the LLM to be closed');
  });

  it('streams the answer about the session; the context has the failure and no secret; audited', async () => {
    configure();
    fake.enqueue({ kind: 'stream', pieces: ['ls failed ', 'because /nonexistent ', 'does not exist.'] });
    const t = dir.omnish({ env: KEY_ENV });
    for (const line of PLANT) await runIn(t, line);
    await runIn(t, 'ls /nonexistent');
    await waitUntil(() => sessions(dir.path).length === 1, 'the session on disk');
    const r = await omnishAsync(dir.path, ['ask', 'why', 'did', 'ls', 'fail?'], KEY_ENV);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('ls failed because /nonexistent does not exist.\n');
    const sent = fake.completions[0]!.rawBody;
    expect(sent).toContain('ls /nonexistent');
    expect(sent).toContain('why did ls fail?');
    for (const secret of [SECRET, AWS_SECRET, DB_PASSWORD, KEY_BODY]) expect(sent).not.toContain(secret);
    // `omnish context` shows the same redacted text, without sending anything.
    const before = fake.completions.length;
    const shown = await omnishAsync(dir.path, ['context'], KEY_ENV);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain('ls /nonexistent');
    expect(shown.stdout).toMatch(/\[REDACTED:[a-z-]+\]/);
    for (const secret of [SECRET, AWS_SECRET, DB_PASSWORD, KEY_BODY]) expect(shown.stdout).not.toContain(secret);
    expect(fake.completions.length).toBe(before);
    const audit = readFileSync(join(dir.path, 'data', 'state', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ trigger: 'ask', backend: 'claude', model: expect.any(String), outcome: 'ok' });
    expect((audit[0]!.redactions as unknown[]).length).toBeGreaterThan(0);
    const listed = await omnishAsync(dir.path, ['audit']);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(/ask\s+claude \(.*\)\s+\d+\s+[1-9]\d*\s+\d+\/\d+\s+ok/);
  });

  it('--json gives answer, backend, model and usage', async () => {
    configure();
    fake.enqueue({ kind: 'stream', pieces: ['Fine.'], usage: { input: 120, output: 3 } });
    const t = dir.omnish({ env: KEY_ENV });
    await runIn(t, 'true');
    const r = await omnishAsync(dir.path, ['ask', '--json', 'all', 'good?'], KEY_ENV);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ answer: 'Fine.', backend: 'claude', usage: { inputTokens: 120, outputTokens: 3 } });
  });

  it('with no backend configured or found: guidance and a non-zero exit, within seconds', async () => {
    const started = Date.now();
    const r = await omnishAsync(dir.path, ['ask', 'anything'], { OMNISH_LLM_PROBE_URL: 'http://127.0.0.1:9/v1' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/\[llm/);
    expect(r.stderr.trim().split('\n').length).toBeLessThan(12);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

});
