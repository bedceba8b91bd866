import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LlmBackendError } from '../common/errors.js';
import { KeySource } from './keys.js';

const dir = mkdtempSync(join(tmpdir(), 'omnish-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function failure(source: KeySource): Promise<LlmBackendError> {
  const err = await source.get().then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(LlmBackendError);
  return err as LlmBackendError;
}

describe('api_key_cmd', () => {
  it('runs the command once and caches the first line of its output, trimmed', async () => {
    const counter = join(dir, 'count');
    const source = new KeySource('claude', { apiKeyCmd: `echo x >> ${counter}; printf '  sk-abc  \\nnotes: work account\\n'` });
    expect(await source.get()).toBe('sk-abc');
    expect(await Promise.all([source.get(), source.get()])).toEqual(['sk-abc', 'sk-abc']);
    expect(readFileSync(counter, 'utf8')).toBe('x\n');
    source.invalidate();
    expect(await source.get()).toBe('sk-abc');
    expect(readFileSync(counter, 'utf8')).toBe('x\nx\n');
    expect(source.refreshable).toBe(true);
    expect(source.hint).toBe('api_key_cmd');
  });

  it('a failing command: its exit status and first stderr line, never its output; not cached', async () => {
    const source = new KeySource('claude', { apiKeyCmd: 'echo sk-secret-leak; echo "pass: anthropic is not in the password store." >&2; echo more >&2; exit 3' });
    const err = await failure(source);
    expect(err.message).toBe('claude: api_key_cmd failed (exit status 3): pass: anthropic is not in the password store.');
    expect(err).toMatchObject({ reason: 'key', retryable: false, backend: 'claude' });
    expect(err.message).not.toContain('sk-secret-leak');
    expect((await failure(source)).message).toContain('exit status 3'); // ran again, not a cached failure
  });

  it('a command that prints nothing is an error', async () => {
    expect((await failure(new KeySource('x', { apiKeyCmd: 'true' }))).message).toBe('x: api_key_cmd printed nothing');
  });

  it('a command that hangs is killed after the timeout, with its children', async () => {
    const started = Date.now();
    const err = await failure(new KeySource('x', { apiKeyCmd: 'sleep 30 | cat' }, { commandTimeoutMs: 200 }));
    expect(err.message).toBe('x: api_key_cmd did not finish within 0.2 s');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('the command gets the given environment and no stdin', async () => {
    const source = new KeySource('x', { apiKeyCmd: 'read line || echo "$SECRET_FROM_ENV"' }, { env: { SECRET_FROM_ENV: 'sk-env', PATH: process.env.PATH } });
    expect(await source.get()).toBe('sk-env');
  });
});

describe('api_key_env', () => {
  it("reads the variable from the daemon's environment", async () => {
    const source = new KeySource('openai', { apiKeyEnv: 'OPENAI_API_KEY' }, { env: { OPENAI_API_KEY: ' sk-o \n' } });
    expect(await source.get()).toBe('sk-o');
    expect(source.refreshable).toBe(false);
    expect(source.hint).toBe('api_key_env (OPENAI_API_KEY)');
  });

  it('an unset or empty variable is an error naming it', async () => {
    for (const env of [{}, { OPENAI_API_KEY: '' }]) {
      const err = await failure(new KeySource('openai', { apiKeyEnv: 'OPENAI_API_KEY' }, { env }));
      expect(err.message).toBe("openai: api_key_env: $OPENAI_API_KEY is not set in omnishd's environment");
    }
  });
});

it('no key configured: undefined (a server on this machine)', async () => {
  expect(await new KeySource('local', {}).get()).toBeUndefined();
});
