/**
 * Untrusted text never reaches the terminal raw, and a command line is never the user's question.
 * Attacks, end to end: hostile LLM answers (clipboard write, title, clear screen, OSC 8 hyperlink,
 * C1 controls, bidi overrides, escapes split across streamed chunks) through `omnish ask`, `::ask`
 * and an auto-explanation; hostile cwd, tty, shell and command strings from a session started in a
 * hostile directory and from a raw SessionStart sent over the socket as a hostile client would.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer } from '../src/llm/testing/fake-anthropic.js';
import { PROTOCOL_VERSION, type Message } from '../src/protocol/index.js';
import { connectUnix, readToken, TOKEN_FILE, type Connection } from '../src/transport/index.js';
import { omnishAsync, startDaemon, waitDaemon } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { idlePrompt, OMNISH, PROMPT_READY, runIn, Term, testEnv, waitUntil } from './helpers/term.js';

const dir = useTestDir();
let fake: FakeAnthropicServer;
beforeEach(async () => {
  fake = await FakeAnthropicServer.start();
});
afterEach(async () => {
  await fake.close();
});

const KEY_ENV = { OMNISH_TEST_LLM_KEY: 'sk-ant-test-key' };

function configure(autoExplain: boolean): void {
  writeFileSync(
    join(dir.path, 'config.toml'),
    `[llm]\ndefault = "claude"\n[llm.claude]\nbackend = "anthropic"\nmodel = "claude-test"\nbase_url = "${fake.baseUrl}"\napi_key_env = "OMNISH_TEST_LLM_KEY"\n` +
      `[llm.auto_trigger]\non_nonzero_exit = ${autoExplain}\non_stderr_patterns = false\ncooldown_seconds = 0\n`,
  );
}

/**
 * An answer that attacks the terminal, cut so that escape sequences straddle the streamed chunks:
 * clipboard write (OSC 52), window title (OSC 0), clear screen, an OSC 8 hyperlink, C1 controls
 * (CSI, NEL, OSC, ST in their UTF-8 form), a bidi override; then text that must survive.
 */
const HOSTILE_ANSWER = [
  'ANSWER-START clip \x1b',
  ']52;c;ZXZpbA==\x07 title \x1b]0;PWNED',
  '\x07 clear \x1b[2J\x1b[H link \x1b]8;;https://evil.example/\x07here\x1b]8;;\x07',
  ' c1 \u009b31m \u0085 \u009d0;x\u009c bidi \u202egnp.exe\u202c ok ü 日本 🎉\r\n',
  'line2\tend ANSWER-END',
];

/** Characters a terminal acts on: C0 controls but `allowed`, DEL, C1 controls, bidi overrides and isolates. */
function actionable(text: string, allowed = '\n'): string[] {
  const found: string[] = [];
  for (const c of text) {
    const code = c.codePointAt(0) ?? 0;
    if (allowed.includes(c)) continue;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) {
      found.push(`U+${code.toString(16).padStart(4, '0')}`);
    }
  }
  return found;
}

/** The terminal's bytes from the first `from` to the next `to` after it, decoded as UTF-8. */
function region(t: Term, from: string, to: string): string {
  const bytes = t.bytes();
  const start = bytes.indexOf(from);
  const end = bytes.indexOf(to, start);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  return bytes.subarray(start, end + to.length).toString('utf8');
}

/** What the visible answer must still say, with every attack shown as text. */
function expectShownAsText(text: string): void {
  expect(text).toContain('^[]52;c;ZXZpbA==^G');
  expect(text).toContain('^[]0;PWNED^G');
  expect(text).toContain('^[[2J^[[H');
  expect(text).toContain('^[]8;;https://evil.example/^Ghere');
  expect(text).toContain('<U+009B>31m <U+0085> <U+009D>0;x<U+009C>');
  expect(text).toContain('<U+202E>gnp.exe<U+202C> ok ü 日本 🎉');
  expect(text).toContain('line2\tend');
}

describe('hostile LLM answers', () => {
  it('omnish ask prints them with every control shown as text, --json escapes them', async () => {
    configure(false);
    fake.enqueue({ kind: 'stream', pieces: HOSTILE_ANSWER });
    fake.enqueue({ kind: 'stream', pieces: HOSTILE_ANSWER, model: 'evil\x1b]0;MODEL\x07\u009b' });
    const r = await omnishAsync(dir.path, ['ask', 'what', 'now?'], KEY_ENV);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(actionable(r.stdout, '\n\t')).toEqual([]);
    expectShownAsText(r.stdout);
    const json = await omnishAsync(dir.path, ['ask', '--json', 'again?'], KEY_ENV);
    expect(json.status).toBe(0);
    expect(actionable(json.stdout)).toEqual([]);
    expect((JSON.parse(json.stdout) as { answer: string }).answer).toBe(HOSTILE_ANSWER.join(''));
    // The model name a server reports is shown by omnish audit: sanitized there too.
    const audit = await omnishAsync(dir.path, ['audit']);
    expect(audit.status).toBe(0);
    expect(audit.stdout).toContain('evil^[]0;MODEL^G<U+009B>');
    expect(actionable(audit.stdout)).toEqual([]);
  });

  it('::ask streams them at the prompt with no escape byte of theirs reaching the terminal', async () => {
    configure(false);
    fake.enqueue({ kind: 'stream', pieces: HOSTILE_ANSWER, pieceDelayMs: 20 });
    const t = dir.omnish({ env: KEY_ENV, args: [] });
    await t.waitFor(PROMPT_READY);
    await idlePrompt(t);
    const since = t.mark();
    t.write('::ask what happened\r');
    await t.waitFor('ANSWER-END', { since });
    const shown = region(t, 'ANSWER-START', 'ANSWER-END');
    // The prompt's CR LF line ends are omnish's; nothing else may act on the terminal.
    expect(actionable(shown, '\r\n\t')).toEqual([]);
    expectShownAsText(shown);
    expect(await runIn(t, 'echo after-$((1+1))')).toContain('after-2');
  });

  it('an auto-explanation shows them inertly, and its question names no command text', async () => {
    configure(true);
    fake.enqueue({ kind: 'stream', pieces: HOSTILE_ANSWER });
    const t = dir.omnish({ env: { ...KEY_ENV, PS1: 'PROMPT$ ' }, args: [] });
    await t.waitFor(PROMPT_READY);
    await idlePrompt(t);
    // The command line carries escapes of its own (typed with readline's quoted-insert, Ctrl-V) in a comment.
    t.write('ls /nonexistent-QZX # \x16\x1b]0;CMDTITLE\x16\x07\r');
    await t.waitFor('ANSWER-END');
    await waitUntil(() => t.bytes().indexOf('╰', t.bytes().indexOf('ANSWER-END')) >= 0, 'the end of the notice');
    const notice = region(t, '╭ omnish: why', '╰');
    expect(actionable(notice, '\r\n\t')).toEqual([]);
    expectShownAsText(notice);
    expect(notice).toContain('`ls /nonexistent-QZX # ^[]0;CMDTITLE^G`');

    // What the LLM got: the command line only inside the untrusted block, the question naming it by number.
    const body = fake.completions[0]!.body as { messages: Array<{ content: string | Array<{ text: string }> }> };
    const content = body.messages[0]!.content;
    const user = typeof content === 'string' ? content : content.map((c) => c.text).join('');
    const open = user.indexOf('<terminal-session');
    const close = user.lastIndexOf('</terminal-session>');
    expect(user.indexOf('QZX')).toBeGreaterThan(open);
    expect(user.lastIndexOf('QZX')).toBeLessThan(close);
    expect(user.slice(0, open)).not.toContain('QZX');
    const question = user.slice(close);
    expect(question).toMatch(/^<\/terminal-session>\n\nQuestion: Command \d+ in the session marked current="yes" above failed \(exit 2\)\. Explain why and how to fix it, in 3-6 lines\.$/);
    expect(question).not.toMatch(/QZX|CMDTITLE|nonexistent|ls /);
    const seq = Number(/Command (\d+)/.exec(question)?.[1]);
    expect(user.slice(open, close)).toMatch(new RegExp(`--- command ${seq} · exit 2 [^\\n]*\\n\\$ ls /nonexistent-QZX`));
  });
});

/** Escape sequences, C1 controls and bidi overrides, as a hostile client or directory name carries them. */
const EVIL = 'evil\x1b]0;PWNED\x07\x1b[2J\u009b31m\u202eTXT';

/** Waits until the async `check` holds, polling; rejects with `what` after `timeoutMs`. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `omnish ARGS` must succeed and print nothing a terminal acts on; returns its stdout. */
async function inert(args: string[]): Promise<string> {
  const r = await omnishAsync(dir.path, args);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(actionable(r.stdout)).toEqual([]);
  expect(actionable(r.stderr)).toEqual([]);
  return r.stdout;
}

describe('hostile values from a client', () => {
  it('a session started in a directory whose name holds escapes: sessions, commands, status print none', async () => {
    configure(false);
    const evilDir = join(dir.path, EVIL);
    mkdirSync(evilDir);
    const t = dir.track(new Term(process.execPath, [OMNISH, '--norc', '--noprofile'], { env: testEnv(dir.path), cwd: evilDir }));
    await t.waitFor(PROMPT_READY);
    await runIn(t, 'echo ran-$((1+1))');
    await eventually(async () => (await omnishAsync(dir.path, ['commands', '--json'])).stdout.includes('ran-'), 'the command record');
    for (const args of [['sessions'], ['commands'], ['status']]) {
      const out = await inert(args);
      expect(out).toContain('evil^[]0;PWNED^G^[[2J<U+009B>31m<U+202E>TXT');
    }
    for (const args of [['sessions', '--json'], ['commands', '--json'], ['status', '--json']]) {
      const out = await inert(args);
      expect(out).toContain('evil\\u001b]0;PWNED\\u0007\\u001b[2J\\u009b31m\\u202eTXT');
    }
  });

  it('a raw SessionStart with hostile tty, shell, cwd and command: sessions, commands, status print none', async () => {
    configure(false);
    startDaemon(dir.path);
    await waitDaemon(dir.path);
    const socket = join(dir.path, 'run', 'omnish.sock'); // as testEnv sets OMNISH_SOCKET
    const conn = await connectUnix(socket);
    try {
      await hostileSession(conn, join(dir.path, 'run', TOKEN_FILE));
      await eventually(async () => (await omnishAsync(dir.path, ['commands', '--json'])).stdout.includes('hostile-cmd'), 'the hostile command record');
      const sessions = await inert(['sessions']);
      expect(sessions).toContain('pts/evil^[]0;PWNED^G');
      expect(sessions).toContain('hostile-cmd ^[]0;CMD^G');
      const commands = await inert(['commands']);
      expect(commands).toContain('/srv/evil^[]0;PWNED^G');
      expect(commands).toContain('hostile-cmd ^[]0;CMD^G^[[2J<U+009B><U+202E>');
      const status = await inert(['status']);
      expect(status).toContain('evil^[]0;PWNED^G');
      expect(status).toContain('shell integration: off (x^[]0;INT^G)');
      for (const args of [['sessions', '--json'], ['commands', '--json'], ['status', '--json']]) await inert(args);
    } finally {
      conn.destroy();
    }
  });
});

/** Escapes a mark parameter as the integration does: every byte as \xHH. */
function markParam(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
}

/**
 * Plays a hostile client: Hello with the real token, a SessionStart whose tty, shell, cwd and
 * integration hold escapes, then output with marks (with the nonce it chose) for one command whose
 * command line and cwd hold escapes too.
 */
async function hostileSession(conn: Connection, tokenFile: string): Promise<void> {
  const welcome = new Promise<Message>((resolve) => conn.onMessage(resolve));
  conn.send({ type: 'Hello', protocolVersion: PROTOCOL_VERSION, token: readToken(tokenFile) ?? '', role: 'session', clientVersion: '0.0.0', pid: process.pid });
  expect((await welcome).type).toBe('Welcome');
  const nonce = 'f00d';
  conn.send({
    type: 'SessionStart', sessionId: 'abcdef123456', resume: false, startedAtMs: Date.now(),
    shell: `/bin/${EVIL}`, shellPid: process.pid, clientPid: process.pid, tty: `/dev/pts/${EVIL}`, cwd: `/srv/${EVIL}`,
    term: 'xterm', cols: 80, rows: 24, hostname: `host${EVIL}`, nonce, integration: 'off: x\x1b]0;INT\x07',
  });
  const mark = (payload: string): string => `\x1b]${payload};omnish=${nonce}\x07`;
  const output = [
    mark(`633;P;Cwd=${markParam(`/srv/${EVIL}`)}`), mark('133;A'), '$ ', mark('133;B'),
    mark(`633;E;${markParam('hostile-cmd \x1b]0;CMD\x07\x1b[2J\u009b\u202e')}`), mark('133;C'), 'output\r\n',
    mark('133;D;1'), mark('133;A'), '$ ', mark('133;B'),
  ].join('');
  conn.send({ type: 'IoData', dir: 0, tUs: 1000, data: Buffer.from(output, 'utf8') });
}
