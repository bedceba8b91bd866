/**
 * `omnish mcp` end to end, with the SDK's own Client over stdio (StdioClientTransport spawning
 * `node bin/omnish.js mcp`): the tools are listed with their schemas, each is called about a real
 * bash session recorded under omnish, a secret planted in it is found by local search but
 * redacted in every MCP result, long output is capped with a note, bad arguments get an MCP error
 * and the server stays up, and every call lands in the audit log and in `omnish audit`. Waits
 * poll with deadlines.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { useTestDir } from './helpers/fixture.js';
import { omnishAsync } from './helpers/daemon.js';
import { OMNISH, PROMPT_READY, Term, testEnv, waitUntil } from './helpers/term.js';

const dir = useTestDir();

/** A test that records a session under omnish and waits for omnishd to index it: generous, for a loaded machine. */
const RECORDING_TIMEOUT_MS = 120_000;

/** A GitHub token, planted in a command line and in outputs (secretlint's github rule finds it). */
const SECRET = 'ghp_R7cQ2mXv9LkP4sTz1wYb8NfJ3hUd6GaE5oKi';
/** Any 12 characters of it in a result would be a leak. */
const SECRET_PART = SECRET.slice(4, 16);

interface Text {
  text: string;
  isError: boolean;
}

const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
});

/** An MCP client connected to a fresh `omnish mcp`, and its stderr so far. */
async function connect(cwd = dir.path): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [OMNISH, 'mcp'], env: testEnv(dir.path), cwd, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'omnish-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, stderr: () => stderr };
}

/** Calls a tool; its result's text and whether it is an error. */
async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<Text> {
  const r = await client.callTool({ name, arguments: args });
  const content = r.content as Array<{ type: string; text?: string }>;
  return { text: content.map((c) => c.text ?? '').join(''), isError: r.isError === true };
}

/** Types `cmd` alone and waits for its D mark with status `exit`, then the prompt after it. */
async function alone(t: Term, cmd: string, exit = 0): Promise<void> {
  const since = t.mark();
  t.write(`${cmd}\r`);
  const out = await t.waitFor(new RegExp(`\\x1b\\]133;D;${exit};omnish=`), { since, timeoutMs: 15_000 });
  await t.waitFor(PROMPT_READY, { since: since + out.search(/\x1b\]133;D;/), timeoutMs: 15_000 });
}

/** `omnish search --json ARGS`, the local search the MCP results are compared with. */
function localSearch(args: string[]): Array<{ session: string; seq: number; command: string; snippet: string }> | undefined {
  const r = spawnSync(process.execPath, [OMNISH, 'search', ...args, '--json'], { env: testEnv(dir.path), encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 ? JSON.parse(r.stdout) : undefined;
}

function auditLines(): Array<Record<string, unknown>> {
  return readFileSync(join(dir.path, 'data', 'state', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('omnish mcp', () => {
  it('answers every tool about a recorded session, the planted secret redacted in every result, every call audited', async () => {
    const work = join(dir.path, 'work');
    mkdirSync(work);
    const t = dir.omnish({ args: [] });
    await t.waitFor(PROMPT_READY, { timeoutMs: 15_000 });
    await alone(t, `cd ${work}`);
    await alone(t, `echo "deploy with ${SECRET} now"`);
    await alone(t, "seq 1 12000 | sed 's/^/line /'");
    await alone(t, `sh -c 'echo compile step; echo "error: token ${SECRET} rejected"; exit 3'`, 3);
    await alone(t, 'echo wombat done');
    // The secret is there for local search: both commands that show it.
    const local = await waitUntil(() => {
      const hits = localSearch([SECRET]);
      return hits?.length === 2 && localSearch(['wombat'])?.length === 1 ? hits : undefined;
    }, () => `local search: ${JSON.stringify(localSearch([SECRET]))}`, 60_000);
    expect(local.map((h) => h.seq)).toEqual([4, 2]);
    expect(local[1]!.command).toContain(SECRET);
    const session = local[0]!.session;

    const { client, stderr } = await connect(work);
    const results: Text[] = [];
    const ok = async (name: string, args: Record<string, unknown> = {}): Promise<string> => {
      const r = await call(client, name, args);
      expect(r.isError, `${name}: ${r.text}`).toBe(false);
      results.push(r);
      return r.text;
    };

    // The tools and their schemas.
    const { tools } = await client.listTools();
    expect(tools.map((x) => x.name).sort()).toEqual(['get_command_output', 'last_failure', 'list_commands', 'list_sessions', 'search']);
    const byName = Object.fromEntries(tools.map((x) => [x.name, x]));
    expect(byName.search!.inputSchema.required).toEqual(['query']);
    expect(byName.get_command_output!.inputSchema.required).toEqual(['seq']);
    expect(Object.keys(byName.list_commands!.inputSchema.properties ?? {}).sort()).toEqual(['cwd', 'exit', 'here', 'host', 'limit', 'session', 'since', 'until']);
    for (const x of tools) expect(x.annotations?.readOnlyHint, x.name).toBe(true);

    const sessions = JSON.parse(await ok('list_sessions')) as { sessions: Array<{ id: string; active: boolean }> };
    expect(sessions.sessions.map((s) => s.id)).toEqual([session]);

    const listed = JSON.parse(await ok('list_commands', { session: session.slice(0, 6), here: true })) as { commands: Array<{ seq: number; command: string; exitCode: number }> };
    expect(listed.commands.map((c) => c.seq)).toEqual([5, 4, 3, 2]);
    expect(listed.commands.find((c) => c.seq === 2)?.command).toBe('echo "deploy with [REDACTED:github-token] now"');
    const failed = JSON.parse(await ok('list_commands', { exit: 'nonzero', since: '1h' })) as { commands: Array<{ seq: number; exitCode: number }> };
    expect(failed.commands).toMatchObject([{ seq: 4, exitCode: 3 }]);

    // Found by what surrounds it; the hit's command and snippet carry the marker, not the token.
    const found = JSON.parse(await ok('search', { query: 'deploy', limit: 5 })) as { commands: Array<{ ref: string; snippet: string; command: string }> };
    expect(found.commands).toMatchObject([{ ref: `${session}:2`, snippet: 'deploy with [REDACTED:github-token] now' }]);
    // Searching for the secret itself finds both commands, and still shows none of it.
    const bySecret = JSON.parse(await ok('search', { query: SECRET })) as { commands: Array<{ seq: number }> };
    expect(bySecret.commands.map((c) => c.seq)).toEqual([4, 2]);

    const output = await ok('get_command_output', { session, seq: 2 });
    expect(output).toContain('--- output, lines 1-1 of 1 ---\ndeploy with [REDACTED:github-token] now');
    expect(output).toContain(`cwd: ${work}`);

    // Long output: the tail, capped, with the note; a line range gives exactly those lines.
    const long = await ok('get_command_output', { session, seq: 3 });
    expect(long).toMatch(/--- output, lines (\d+)-12000 of 12000 ---\n/);
    expect(long).toContain('line 12000');
    expect(long).not.toContain('\nline 1\n');
    expect(long).toMatch(/\[truncated: lines \d+-12000 of 12000 shown .*start_line and end_line/);
    expect(long.length).toBeLessThanOrEqual(40_000);
    const range = await ok('get_command_output', { session: session.slice(0, 5), seq: 3, start_line: 10, end_line: 12 });
    expect(range).toContain('--- output, lines 10-12 of 12000 ---\nline 10\nline 11\nline 12');
    expect(range).not.toContain('truncated');

    const last = await ok('last_failure');
    expect(last).toContain(`session: ${session}  seq: 4  exit: 3`);
    expect(last).toContain('compile step\nerror: token [REDACTED:github-token] rejected');
    expect(last).toMatch(/commands before it in this session:\n {2}1 {2}exit 0 {2}cd .*\n {2}2 {2}exit 0 {2}echo "deploy with \[REDACTED:github-token\] now"/);
    expect(last).toContain('1 command(s) ran after it');

    for (const r of results) {
      expect(r.text).not.toContain(SECRET_PART);
    }

    // Bad arguments: an MCP error each (the SDK's for the schema, ours for what it cannot check); the server stays up.
    const bad = [
      await call(client, 'get_command_output', { seq: 'two' }),
      await call(client, 'get_command_output', { session, seq: 99 }),
      await call(client, 'get_command_output', { session, seq: 3, start_line: 5, end_line: 2 }),
      await call(client, 'list_commands', { since: 'yesterday' }),
      await call(client, 'search', { query: '' }),
      await call(client, 'run_command', { command: 'rm -rf /' }),
    ];
    expect(bad.map((b) => b.isError)).toEqual([true, true, true, true, true, true]);
    for (const b of bad) expect(b.text).not.toContain(SECRET_PART);
    expect(bad[0]!.text).toMatch(/Input validation error.*seq/s);
    expect(bad[1]!.text).toContain(`session ${session} has no command 99 (its commands are 1-5)`);
    expect(bad[2]!.text).toContain('end_line 2 is before start_line 5');
    expect(bad[3]!.text).toContain("'yesterday' is not a time");
    expect(bad[5]!.text).toContain('Tool run_command not found');
    expect((await client.listTools()).tools).toHaveLength(5);
    expect(await ok('list_sessions', { active: true })).toContain(session);
    await client.close();
    expect(stderr()).toBe('');

    // Every call in the audit log, with its tool, arguments, size, redactions and outcome.
    const audit = auditLines().filter((e) => e.kind === 'mcp');
    expect(audit.map((e) => e.tool)).toEqual([
      'list_sessions', 'list_commands', 'list_commands', 'search', 'search', 'get_command_output', 'get_command_output', 'get_command_output', 'last_failure',
      'get_command_output', 'get_command_output', 'get_command_output', 'list_commands', 'search', 'run_command', 'list_sessions',
    ]);
    expect(audit[0]).toMatchObject({ client: 'omnish-test 1.0.0', arguments: {}, outcome: 'ok', redactions: [] });
    expect(audit[3]).toMatchObject({ tool: 'search', arguments: { query: 'deploy', limit: 5 }, outcome: 'ok', redactions: [{ kind: 'github-token', count: 2 }] });
    expect(audit[6]).toMatchObject({ outcome: 'truncated' });
    // Its command line, its output and the command before it.
    expect(audit[8]).toMatchObject({ tool: 'last_failure', redactions: [{ kind: 'github-token', count: 3 }] });
    for (const e of audit.slice(0, 9)) expect(e.bytes, String(e.tool)).toBeGreaterThan(0);
    expect(audit.slice(9, 15).map((e) => String(e.outcome).slice(0, 7))).toEqual(Array(6).fill('error: '));
    const listedAudit = await omnishAsync(dir.path, ['audit']);
    expect(listedAudit.status).toBe(0);
    expect(listedAudit.stdout).toContain('MCP tool calls (omnish mcp):');
    expect(listedAudit.stdout).toMatch(/omnish-test 1\.0\.0\s+search\s+\{"query":"deploy","limit":5\}\s+\d+\s+2\s+ok/);
    t.write('exit\r');
    await t.waitExit();
  }, RECORDING_TIMEOUT_MS);

  it('withholds a search snippet that lies inside a secret of its output (a line of a private key)', async () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(join(dir.path, 'key.pem'), pem);
    // A word of a line of the key's body: nothing on that line alone says "secret".
    const body = pem.split('\n')[3]!;
    const word = body.split(/[^A-Za-z0-9]/).sort((a, b) => b.length - a.length)[0]!;
    expect(word.length).toBeGreaterThanOrEqual(10);
    const t = dir.omnish({ args: [] });
    await t.waitFor(PROMPT_READY, { timeoutMs: 15_000 });
    await alone(t, `cat ${join(dir.path, 'key.pem')}`);
    const [hit] = await waitUntil(() => {
      const hits = localSearch([`"${word}"`]);
      return hits?.length === 1 ? hits : undefined;
    }, () => `local search: ${JSON.stringify(localSearch([`"${word}"`]))}`, 60_000);
    expect(hit!.snippet).toContain(word); // local search shows the line (it is the user's own terminal)
    const { client } = await connect();
    const found = await call(client, 'search', { query: `"${word}"` });
    expect(found.isError, found.text).toBe(false);
    expect((JSON.parse(found.text) as { commands: Array<{ snippet: string }> }).commands).toMatchObject([{ snippet: '[REDACTED:snippet-withheld]' }]);
    const output = await call(client, 'get_command_output', { seq: 1 });
    expect(output.text).toContain('[REDACTED:private-key]');
    for (const r of [found, output]) {
      for (const line of pem.split('\n').slice(1, -2)) expect(r.text).not.toContain(line.slice(0, 24));
    }
    t.write('exit\r');
    await t.waitExit();
  }, RECORDING_TIMEOUT_MS);

  it('answers nothing when its audit log cannot be written', async () => {
    // The audit log is a directory: appending fails.
    mkdirSync(join(dir.path, 'data', 'state', 'audit.jsonl'), { recursive: true });
    const { client, stderr } = await connect();
    const r = await call(client, 'list_sessions');
    expect(r).toMatchObject({ isError: true });
    expect(r.text).toContain('omnish mcp cannot write its audit log, so it sends nothing');
    expect(r.text).not.toContain('"sessions"');
    await client.close();
    expect(stderr()).toContain('cannot write its audit log');
  });

  it('answers with an error while config.toml does not load (its [redact] patterns would be missing)', async () => {
    writeFileSync(join(dir.path, 'config.toml'), '[redact]\npatterns = "not a list"\n');
    const { client } = await connect();
    const r = await call(client, 'list_sessions');
    expect(r).toMatchObject({ isError: true });
    expect(r.text).toContain('config.toml does not load, so its [redact] settings are unknown');
    expect(auditLines()).toMatchObject([{ kind: 'mcp', tool: 'list_sessions', outcome: expect.stringMatching(/^error: config\.toml does not load/) }]);
  });

  it('stores hostile client names and arguments, and omnish audit prints them sanitized', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [OMNISH, 'mcp'], env: testEnv(dir.path), stderr: 'pipe' });
    const client = new Client({ name: 'evil\x1b]0;TITLE\x07', version: '\x9b6n' });
    await client.connect(transport);
    clients.push(client);
    expect(await call(client, 'last_failure', { session: 'abc\x1b[2J' })).toMatchObject({ isError: true });
    expect(JSON.parse((await call(client, 'list_sessions')).text)).toEqual({ sessions: [] });
    await client.close();
    const audit = auditLines();
    expect(audit[0]).toMatchObject({ kind: 'mcp', client: 'evil\x1b]0;TITLE\x07 \x9b6n', arguments: { session: 'abc\x1b[2J' } });
    const listed = await omnishAsync(dir.path, ['audit']);
    expect(listed.status).toBe(0);
    expect(listed.stdout).not.toMatch(/[\x1b\x07\x9b]/);
    expect(listed.stdout).toContain('last_failure');
  });
});
