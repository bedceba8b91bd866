/**
 * `omnish doctor` end to end: the real omnish and omnishd in a temporary directory; the LLM check
 * goes through the daemon to a fake OpenAI-compatible server on loopback.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeOpenAiServer } from '../src/llm/testing/fake-openai.js';
import { omnish, omnishAsync } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';

const dir = useTestDir();
let fake: FakeOpenAiServer;
beforeEach(async () => {
  fake = await FakeOpenAiServer.start();
});
afterEach(async () => {
  await fake.close();
});

/** Nothing listens on port 1: the daemon finds no local LLM server, whatever runs on this machine. */
const ENV = { OMNISH_LLM_PROBE_URL: 'http://127.0.0.1:1/v1', OMNISH_TEST_LLM_KEY: 'sk-test-key' };

interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

function startDaemon(): void {
  const r = omnish(dir.path, ['daemon', 'start'], ENV);
  expect(r.status, r.stderr).toBe(0);
}

function configureFake(): void {
  writeFileSync(
    join(dir.path, 'config.toml'),
    `[llm]\ndefault = "local"\n[llm.local]\nbackend = "openai_compat"\nmodel = "fake-model-1"\nbase_url = "${fake.baseUrl}"\napi_key_env = "OMNISH_TEST_LLM_KEY"\n`,
  );
}

describe('omnish doctor', () => {
  it('a healthy setup passes; no LLM backend is a warning that says how to configure one', async () => {
    startDaemon();
    const started = Date.now();
    const r = await omnishAsync(dir.path, ['doctor'], ENV);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).not.toContain('✗');
    for (const name of ['node', 'node-pty', 'config', 'stty', 'shell integration', 'socket directory', 'socket', 'token', 'data directory', 'state directory', 'daemon', 'daemon config']) {
      expect(r.stdout).toMatch(new RegExp(`^✓ ${name} +\\S`, 'm'));
    }
    expect(r.stdout).toMatch(/^! llm +no LLM backend is configured.* — fix: add an \[llm\.NAME\] table/m);

    const json = JSON.parse((await omnishAsync(dir.path, ['doctor', '--json'], ENV)).stdout) as Check[];
    expect(json.find((c) => c.name === 'llm')).toMatchObject({ status: 'warn', fix: expect.stringContaining('ANTHROPIC_API_KEY') });
    expect(json.filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('a broken config fails, naming the key and the fix', async () => {
    writeFileSync(join(dir.path, 'config.toml'), '[shell]\ncolour = "red"\n');
    const r = await omnishAsync(dir.path, ['doctor'], ENV);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^✗ config +.*config\.toml:2:1: unknown key shell\.colour — fix: remove or correct shell\.colour on line 2 of /m);
  });

  it('a world-writable socket directory is reported with chmod 700', async () => {
    startDaemon();
    const run = join(dir.path, 'run');
    chmodSync(run, 0o777);
    try {
      const r = await omnishAsync(dir.path, ['doctor', '--json'], ENV);
      expect(r.status).toBe(1);
      const check = (JSON.parse(r.stdout) as Check[]).find((c) => c.name === 'socket directory');
      expect(check).toMatchObject({ status: 'fail', detail: expect.stringContaining('world-writable (mode 0777)'), fix: `chmod 700 ${run}` });
    } finally {
      chmodSync(run, 0o700);
    }
  });

  it('without a daemon: warnings only, and the LLM check says why it was skipped', async () => {
    const r = await omnishAsync(dir.path, ['doctor'], ENV);
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^! daemon +omnishd is not running .* — fix: .*omnish daemon start/m);
    expect(r.stdout).toMatch(/^! llm +not checked/m);
  });

  it('a configured backend is pinged through the daemon with 1 token, and audited', async () => {
    configureFake();
    startDaemon();
    const r = await omnishAsync(dir.path, ['doctor'], ENV);
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^✓ llm local +openai_compat fake-model-1 at ${fake.baseUrl}: answered in \\d+ ms`, 'm'));
    expect(fake.completions).toHaveLength(1);
    expect(fake.completions[0]?.body).toMatchObject({ max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] });
    const audit = readFileSync(join(dir.path, 'data', 'state', 'audit.jsonl'), 'utf8');
    expect(JSON.parse(audit.trim())).toMatchObject({ trigger: 'doctor', backend: 'local', outcome: 'ok' });
  });

  it('a refused key fails with where to fix it', async () => {
    configureFake();
    startDaemon();
    fake.enqueue({ kind: 'error', status: 401, message: 'Incorrect API key provided' });
    const r = await omnishAsync(dir.path, ['doctor', '--json'], ENV);
    expect(r.status).toBe(1);
    const check = (JSON.parse(r.stdout) as Check[]).find((c) => c.name === 'llm local');
    expect(check).toMatchObject({ status: 'fail', fix: expect.stringContaining('api_key_cmd / api_key_env of [llm.local]') });
    expect(r.stdout).not.toContain('sk-test-key');
  });
});
