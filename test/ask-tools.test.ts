/**
 * Tool use end to end: the real omnishd answers `omnish ask` (and an auto-explanation) with the
 * tool loop, the real Anthropic and OpenAI SDKs talk to loopback fakes that script tool calls in
 * the providers' wire formats, and the tools read a real recorded session and its search index.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { request } from '../src/control/request.js';
import { FakeAnthropicServer } from '../src/llm/testing/fake-anthropic.js';
import { FakeOpenAiServer } from '../src/llm/testing/fake-openai.js';
import type { FakeLlmServer } from '../src/llm/testing/fake-server.js';
import { omnish as omnishCli, omnishAsync, sessions } from './helpers/daemon.js';
import { testEnv } from './helpers/env.js';
import { useTestDir } from './helpers/fixture.js';
import { PROMPT_READY, runIn, waitUntil, type Term } from './helpers/term.js';

const dir = useTestDir();
let fake: FakeLlmServer & { baseUrl: string };
afterEach(async () => {
  vi.unstubAllEnvs();
  await fake.close();
});

const KEY_ENV = { OMNISH_TEST_LLM_KEY: 'sk-test-key' };
const SECRET = 'ghp_0123456789abcdefABCDEF0123456789abcd';
const DB_PASSWORD = 'S3cr3tPassw0rd';
/** A failing command whose output holds the word the model searches for, next to planted secrets. */
const FAILING = `printf '%s\\n' 'GITHUB_TOKEN=${SECRET}' 'DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/prod' 'write error: ENOSPC no space left on device'; false`;

function configure(kind: 'anthropic' | 'openai_compat', extra = ''): void {
  writeFileSync(
    join(dir.path, 'config.toml'),
    `[llm]\ndefault = "main"\n[llm.main]\nbackend = "${kind}"\nmodel = "model-test"\nbase_url = "${fake.baseUrl}"\napi_key_env = "OMNISH_TEST_LLM_KEY"\n` +
      `[llm.auto_trigger]\non_nonzero_exit = false\non_stderr_patterns = false\n${extra}`,
  );
}

/** A shell that ran FAILING (command 1), its session id once the index has the command. */
async function recorded(): Promise<{ t: Term; id: string }> {
  const t = dir.omnish({ env: KEY_ENV });
  await runIn(t, FAILING);
  await runIn(t, 'echo done-$((1+1))');
  const id = await waitUntil(() => sessions(dir.path)[0]?.id, 'the session on disk');
  await waitUntil(() => omnishCli(dir.path, ['search', 'ENOSPC']).status === 0, 'the command in the search index');
  return { t, id };
}

function auditLines(): Array<Record<string, unknown>> {
  return readFileSync(join(dir.path, 'data', 'state', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('omnish ask with tools', () => {
  it('a scripted model searches, reads an output by seq and answers; no planted secret reaches it; every call audited', async () => {
    fake = await FakeAnthropicServer.start();
    configure('anthropic');
    const { id } = await recorded();
    fake.enqueue(
      { kind: 'tools', pieces: ['Checking. '], calls: [{ name: 'search', input: { query: 'ENOSPC' } }] },
      { kind: 'tools', calls: [{ name: 'get_command_output', input: { session: id, seq: 1 } }] },
      { kind: 'stream', pieces: ['The disk ', 'is full.'] },
    );
    const r = await omnishAsync(dir.path, ['ask', '--session', id, 'why', 'did', 'it', 'fail?'], KEY_ENV);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('Checking. \n· searched "ENOSPC": 1 command in 1 session\n· read the output of command 1\nThe disk is full.\n');
    const [first, second, third] = fake.completions;
    expect(fake.completions).toHaveLength(3);
    expect(fake.toolsOf(first!)).toEqual(['search', 'list_sessions', 'list_commands', 'get_command_output', 'suggest_command']);
    // Each result went back framed as untrusted data, redacted.
    const searched = fake.toolResultsOf(second!)[0]!;
    expect(searched.content).toMatch(/^<tool-result tool="search">\n/);
    expect(searched.content).toContain(`"ref": "${id}:1"`);
    const output = fake.toolResultsOf(third!)[1]!;
    expect(output.content).toContain('write error: ENOSPC no space left on device');
    expect(output.content).toMatch(/\[REDACTED:[a-z-]+\]/);
    for (const secret of [SECRET, DB_PASSWORD]) expect(fake.sentText()).not.toContain(secret);
    const audit = auditLines();
    expect(audit.filter((e) => e.kind === 'llm-tool').map((e) => [e.tool, e.outcome, e.session])).toEqual([['search', 'ok', id], ['get_command_output', 'ok', id]]);
    expect(audit.find((e) => e.kind === undefined)).toMatchObject({ trigger: 'ask', outcome: 'ok', toolCalls: 2 });
    const listed = await omnishAsync(dir.path, ['audit']);
    expect(listed.stdout).toMatch(/Tool calls of the model while omnishd answered:\n.*TOOL.*\n.*search\s+\{"query":"ENOSPC"\}/);
  });

  it('a follow-up (ask -c) after a tool exchange: the earlier turns go again, and the tools are offered again', async () => {
    fake = await FakeOpenAiServer.start();
    configure('openai_compat');
    const { id } = await recorded();
    fake.enqueue(
      { kind: 'tools', calls: [{ name: 'list_commands', input: { exit: 'nonzero' } }] },
      { kind: 'stream', pieces: ['It failed writing.'] },
      { kind: 'tools', calls: [{ name: 'get_command_output', input: { seq: 1, start_line: 3, end_line: 3 } }] },
      { kind: 'stream', pieces: ['Line 3 says ENOSPC.'] },
    );
    const env = { ...KEY_ENV, OMNISH_SESSION: id };
    expect((await omnishAsync(dir.path, ['ask', 'why?'], env)).stdout).toBe('· listed 0 commands\nIt failed writing.\n');
    const r = await omnishAsync(dir.path, ['ask', '-c', 'which', 'line?'], env);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('· read the output of command 1 lines 3-3\nLine 3 says ENOSPC.\n');
    const followUp = fake.completions[2]!;
    expect(fake.toolsOf(followUp)).toContain('get_command_output');
    const messages = (followUp.body as { messages: Array<{ role: string; content: string }> }).messages;
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[2]!.content).toBe('It failed writing.');
    expect(fake.toolResultsOf(fake.completions[3]!)[0]!.content).toContain('--- output, lines 3-3 of');
  });

  it('the loop stops at max_calls with a clear line when the model keeps calling tools', async () => {
    fake = await FakeAnthropicServer.start();
    configure('anthropic', '[llm.tools]\nmax_calls = 1\n');
    const { id } = await recorded();
    const call = { kind: 'tools' as const, calls: [{ name: 'list_sessions', input: {} }] };
    fake.enqueue(call, call, call);
    const r = await omnishAsync(dir.path, ['ask', '--session', id, 'what', 'happened?'], KEY_ENV);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^· listed 1 session\n\(omnish stopped the answer: the model kept asking for tools after 1 call, the limit; .*max_calls\)\n$/);
    expect(fake.completions).toHaveLength(2);
    const last = fake.completions[1]!.body as { tool_choice?: unknown; messages: Array<{ content: unknown }> };
    expect(last.tool_choice).toEqual({ type: 'none' });
    expect(JSON.stringify(last.messages.at(-1))).toContain('the limit of 1 tool calls is reached');
  });

  it('a backend whose server refuses tools still answers, from the context alone (OpenAI SDK)', async () => {
    fake = await FakeOpenAiServer.start();
    fake.refuseTools = true;
    configure('openai_compat');
    const { id } = await recorded();
    fake.enqueue({ kind: 'stream', pieces: ['From the context: ', 'the disk is full.'] });
    const r = await omnishAsync(dir.path, ['ask', '--session', id, 'why?'], KEY_ENV);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('From the context: the disk is full.\n');
    expect(fake.completions.map((c) => fake.toolsOf(c).length)).toEqual([5, 0]);
    expect(fake.completions[1]!.rawBody).toContain('ENOSPC');
    for (const secret of [SECRET, DB_PASSWORD]) expect(fake.sentText()).not.toContain(secret);
  });

  it('suggest_command: the suggestion line after the answer, sanitized, and the suggestion request returns it', async () => {
    fake = await FakeOpenAiServer.start();
    configure('openai_compat');
    const { id } = await recorded();
    fake.enqueue(
      { kind: 'tools', calls: [{ name: 'suggest_command', input: { command: 'df -h /\x1b]52;c;aGk=\x07 && rm -rf ~/.cache/build\nreboot' } }] },
      { kind: 'stream', pieces: ['Free some space.'] },
    );
    const r = await omnishAsync(dir.path, ['ask', '--session', id, 'fix?'], KEY_ENV);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('Free some space.\n  suggested: df -h /]52;c;aGk= && rm -rf ~/.cache/build\n');
    expect(fake.toolResultsOf(fake.completions[1]!)[0]!.content).toContain('never runs it');
    vi.stubEnv('OMNISH_SOCKET', testEnv(dir.path).OMNISH_SOCKET);
    const got = await request('suggestion', { session: id.slice(0, 6) });
    expect(got.command).toBe('df -h /]52;c;aGk= && rm -rf ~/.cache/build');
    const json = await omnishAsync(dir.path, ['ask', '--json', '--session', id, 'again?'], KEY_ENV);
    expect(JSON.parse(json.stdout)).toMatchObject({ answer: 'Hello, world.', suggestion: null, toolCalls: 0 });
    // The earlier suggestion stays the session's until a new one comes.
    expect((await request('suggestion', { session: id })).command).toBe('df -h /]52;c;aGk= && rm -rf ~/.cache/build');
  });

  it('the context says what the index knows of the failed command: its earlier runs here and the last success', async () => {
    fake = await FakeAnthropicServer.start();
    configure('anthropic', '[llm.tools]\nenabled = false\n');
    const t = dir.omnish({ env: KEY_ENV });
    // Typed as they are (runIn would wrap them in its markers and their exit status): one per prompt.
    const typed = async (cmd: string): Promise<void> => {
      const since = t.mark();
      t.write(`${cmd}\r`);
      await t.waitFor(new RegExp(`${PROMPT_READY.source}$`), { since });
    };
    await t.waitFor(PROMPT_READY);
    await typed(`cd ${dir.path}`); // 1
    await typed('touch omnish-marker'); // 2
    await typed('test -e omnish-marker'); // 3: succeeds
    await typed('rm omnish-marker'); // 4
    await typed('test -e omnish-marker'); // 5: fails
    await typed('test -e omnish-marker'); // 6: fails, the one asked about
    const id = await waitUntil(() => sessions(dir.path)[0]?.id, 'the session on disk');
    await waitUntil(() => {
      const r = omnishCli(dir.path, ['search', '--json', 'omnish-marker']);
      return r.status === 0 && (JSON.parse(r.stdout) as unknown[]).length === 5;
    }, 'the commands in the search index');
    const r = await omnishAsync(dir.path, ['ask', '--session', id, 'why?'], KEY_ENV);
    expect(r.status).toBe(0);
    const sent = fake.completions[0]!;
    expect(fake.toolsOf(sent)).toEqual([]); // [llm.tools] enabled = false: the context alone
    expect(sent.rawBody).toMatch(new RegExp(`--- omnish's index on command 6, same command line in the same directory: 2 earlier runs, 1 of them failed; last success (just now|\\d+s ago) \\(session ${id.slice(0, 8)}, command 3\\)`));
    // Inside the session's block, which is data: after its opening tag, before its end.
    const at = sent.rawBody.indexOf("omnish's index on command 6");
    const open = sent.rawBody.indexOf(`<terminal-session id=\\"${id}\\"`);
    expect(open).toBeGreaterThan(0);
    expect(at).toBeGreaterThan(open);
    expect(at).toBeLessThan(sent.rawBody.lastIndexOf('</terminal-session>'));
  });

  it('an auto-explanation shows the command it suggests in its notice', async () => {
    fake = await FakeAnthropicServer.start();
    writeFileSync(
      join(dir.path, 'config.toml'),
      `[llm]\ndefault = "claude"\n[llm.claude]\nbackend = "anthropic"\nmodel = "m"\nbase_url = "${fake.baseUrl}"\napi_key_env = "OMNISH_TEST_LLM_KEY"\n[llm.auto_trigger]\ncooldown_seconds = 0\n`,
    );
    fake.enqueue(
      { kind: 'tools', calls: [{ name: 'suggest_command', input: { command: 'mkdir -p /tmp/omnish-made' } }] },
      { kind: 'stream', pieces: ['The directory does not exist.'] },
    );
    const t = dir.omnish({ env: { ...KEY_ENV, PS1: 'PROMPT$ ' }, args: [] });
    await t.waitFor(PROMPT_READY);
    t.write('ls /tmp/omnish-not-made\r');
    await t.waitScreen((s) => s.some((l) => l.includes('suggested: mkdir -p /tmp/omnish-made')), 'the suggestion in the notice');
    expect(fake.completions).toHaveLength(2);
    const id = sessions(dir.path)[0]!.id;
    vi.stubEnv('OMNISH_SOCKET', testEnv(dir.path).OMNISH_SOCKET);
    expect((await request('suggestion', { session: id })).command).toBe('mkdir -p /tmp/omnish-made');
  });
});
