/**
 * Threads and follow-ups end to end: every `omnish ask` and auto-explanation is stored as a thread
 * by the daemon; `ask -c` / `::ask -c` / `--thread ID` send the earlier turns again through the real
 * Anthropic SDK to a loopback server speaking the Messages API; `omnish threads` lists, shows
 * (sanitized) and deletes them.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer } from '../src/llm/testing/fake-anthropic.js';
import { omnish, omnishAsync, sessions } from './helpers/daemon.js';
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

const KEY_ENV = { OMNISH_TEST_LLM_KEY: 'sk-ant-test-key' };
const SECRET = 'ghp_0123456789abcdefABCDEF0123456789abcd';

function configure(autoExplain = false): void {
  writeFileSync(
    join(dir.path, 'config.toml'),
    `[llm]\ndefault = "claude"\n[llm.claude]\nbackend = "anthropic"\nmodel = "claude-test"\nbase_url = "${fake.baseUrl}"\napi_key_env = "OMNISH_TEST_LLM_KEY"\n` +
      `[llm.auto_trigger]\non_nonzero_exit = ${autoExplain}\non_stderr_patterns = false\ncooldown_seconds = 0\n`,
  );
}

type Message = { role: string; content: string | Array<{ type: string; text?: string }> };

/** The messages of the `i`th request the fake server received, each as one string. */
function messages(i: number): Array<{ role: string; text: string }> {
  const body = fake.completions[i]!.body as { messages: Message[] };
  return body.messages.map((m) => ({ role: m.role, text: typeof m.content === 'string' ? m.content : m.content.map((c) => c.text ?? '').join('') }));
}

function threadsDir(): string {
  return join(dir.path, 'data', 'threads');
}

describe('threads and follow-ups', () => {
  it('a follow-up carries the earlier turns and what ran since; threads lists, shows and deletes it', async () => {
    configure();
    fake.enqueue({ kind: 'stream', pieces: ['ls failed because ', 'the path is missing.'] });
    // An answer with a terminal escape (it sets the window title): `threads show` must defuse it.
    fake.enqueue({ kind: 'stream', pieces: ['Create it with `mkdir /nonexistent`.\x1b]0;owned\x07'] });
    const t = dir.omnish({ env: KEY_ENV });
    await runIn(t, `export GITHUB_TOKEN=${SECRET}; ls /nonexistent`);
    await waitUntil(() => sessions(dir.path).length === 1, 'the session on disk');
    const session = sessions(dir.path)[0]!.id;
    const env = { ...KEY_ENV, OMNISH_SESSION: session };

    const first = await omnishAsync(dir.path, ['ask', '--json', 'why', 'did', 'ls', 'fail?'], env);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const id = (JSON.parse(first.stdout) as { thread: string }).thread;
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    // Stored 0600 in a 0700 directory, and nothing else there (no temporary file left).
    expect(statSync(threadsDir()).mode & 0o777).toBe(0o700);
    expect(statSync(join(threadsDir(), `${id}.json`)).mode & 0o777).toBe(0o600);
    expect(readdirSync(threadsDir())).toEqual([`${id}.json`]);

    await runIn(t, 'echo between-the-turns');
    const second = await omnishAsync(dir.path, ['ask', '-c', 'how', 'do', 'I', 'fix', 'it?'], env);
    expect(second.stderr).toBe('');
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('mkdir /nonexistent');

    // The follow-up request: the first question (with its context) and answer, then the new turn.
    const sent = messages(1);
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent[0]!.text).toContain('ls /nonexistent');
    expect(sent[0]!.text).toContain('Question: why did ls fail?');
    expect(sent[0]!.text).toBe(messages(0)[0]!.text);
    expect(sent[1]!.text).toBe('ls failed because the path is missing.');
    expect(sent[2]!.text).toContain('echo between-the-turns');
    expect(sent[2]!.text).not.toContain('ls /nonexistent');
    expect(sent[2]!.text).toMatch(/Question: how do I fix it\?$/);
    expect(fake.completions[1]!.rawBody).not.toContain(SECRET);

    const listed = await omnishAsync(dir.path, ['threads']);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+\\S+ ago\\s+.*${session.slice(0, 12)}\\s+2\\s+why did ls fail\\?$`, 'm'));

    const shown = await omnishAsync(dir.path, ['threads', 'show', id.slice(0, 4)]);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain('› why did ls fail?');
    expect(shown.stdout).toContain('› how do I fix it?');
    expect(shown.stdout).toContain('ls failed because the path is missing.');
    expect(shown.stdout).toContain('^[]0;owned^G');
    expect(shown.stdout).not.toContain('\x1b');

    const removed = await omnishAsync(dir.path, ['threads', 'rm', id]);
    expect(removed.stderr).toBe('');
    expect(removed.status).toBe(0);
    expect(removed.stdout).toBe(`deleted 1 thread: ${id}\n`);
    expect((await omnishAsync(dir.path, ['threads'])).stdout).toMatch(/^No threads yet/);
    expect(readdirSync(threadsDir())).toEqual([]);
  });

  it('-c with nothing to continue fails with one line, and sends nothing', async () => {
    configure();
    const t = dir.omnish({ env: KEY_ENV });
    await runIn(t, 'true');
    await waitUntil(() => sessions(dir.path).length === 1, 'the session on disk');
    const r = await omnishAsync(dir.path, ['ask', '-c', 'and', 'then?'], { ...KEY_ENV, OMNISH_SESSION: sessions(dir.path)[0]!.id });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/nothing to continue/);
    const unknown = await omnishAsync(dir.path, ['ask', '--thread', 'abcdef01', 'and', 'then?'], KEY_ENV);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr.trim().split('\n')).toEqual([expect.stringMatching(/no thread matches 'abcdef01'/)]);
    expect(fake.completions).toHaveLength(0);
  });

  it('an auto-explanation is a thread: ::ask -c follows it up at the prompt', async () => {
    configure(true);
    fake.enqueue({ kind: 'stream', pieces: ['No such directory.'] });
    fake.enqueue({ kind: 'stream', pieces: ['Use mkdir -p first.'] });
    const t = dir.omnish({ env: { ...KEY_ENV, PS1: 'PROMPT$ ' }, args: [] });
    await t.waitFor(PROMPT_READY);
    t.write('ls /nonexistent\r');
    await t.waitScreen((s) => s.some((l) => l.includes('No such directory.')), 'the explanation');
    await waitUntil(async () => (await omnishAsync(dir.path, ['threads'])).stdout.includes('explanation of `ls /nonexistent`'), 'the explanation thread');
    const since = t.mark();
    t.write('::ask -c what should I run?\r');
    await t.waitFor('Use mkdir -p first.', { since });
    const sent = messages(1);
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent[0]!.text).toMatch(/Command 1 in the session marked current="yes" above failed/);
    expect(sent[1]!.text).toBe('No such directory.');
    expect(sent[2]!.text).toMatch(/Question: what should I run\?$/);
    expect(await runIn(t, 'echo after-$((1+1))')).toContain('after-2');
  });

  it('omnish gc deletes the threads of sessions that are gone and those older than max_age_days', async () => {
    writeFileSync(join(dir.path, 'config.toml'), '[store]\nmax_age_days = 30\n');
    // omnishd applies the limits when it starts: it runs before the threads are there.
    expect(omnish(dir.path, ['daemon', 'start']).status).toBe(0);
    mkdirSync(threadsDir(), { recursive: true, mode: 0o700 });
    const plant = (id: string, session: string | null, daysAgo: number): void => {
      const at = new Date(Date.now() - daysAgo * 86_400_000).toISOString();
      writeFileSync(join(threadsDir(), `${id}.json`), JSON.stringify({
        formatVersion: 1, id, session, kind: 'ask', createdAt: at, updatedAt: at, backend: 'b', model: 'm',
        turns: [{ role: 'user', content: 'c', question: 'q', at }, { role: 'assistant', content: 'a', at }],
      }), { mode: 0o600 });
    };
    plant('0000000a', 'abcdef123456', 1); // its session was never stored here
    plant('0000000b', null, 40);
    plant('0000000c', null, 1);
    const dry = await omnishAsync(dir.path, ['gc', '--dry-run']);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('would delete 2 threads (1 of deleted sessions, 1 older than max_age_days)');
    expect(readdirSync(threadsDir())).toHaveLength(3);
    const r = await omnishAsync(dir.path, ['gc', '--json']);
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { threads: unknown[] }).threads).toEqual([{ id: '0000000b', reason: 'age' }, { id: '0000000a', reason: 'session' }]);
    expect(readdirSync(threadsDir())).toEqual(['0000000c.json']);
  });
});
