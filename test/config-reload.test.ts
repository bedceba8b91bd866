/**
 * Config that changes while omnishd runs, end to end: the real daemon, the real file replaced the
 * way editors replace it (write a temporary file, rename it over the old one), LLM backends faked
 * by loopback servers speaking the Anthropic API. A backend added to the file answers the next
 * `ask`; a broken edit keeps the configuration in force and is shown, with file, line and key, by
 * `omnish status`, `omnish doctor`, `omnish config reload` and the log; fixing it clears that;
 * SIGHUP reloads; a request under way and a live session are untouched by a reload.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer } from '../src/llm/testing/fake-anthropic.js';
import { daemonPids, omnish, omnishAsync, sessions, startDaemon, waitDaemon } from './helpers/daemon.js';
import { testEnv } from './helpers/env.js';
import { useTestDir } from './helpers/fixture.js';
import { idlePrompt, runIn, type Term, waitUntil } from './helpers/term.js';

const dir = useTestDir();
/** The key the fake servers accept, in omnishd's environment; no local LLM server is probed. */
const ENV = { OMNISH_TEST_LLM_KEY: 'sk-ant-test-key', OMNISH_LLM_PROBE_URL: 'http://127.0.0.1:1/v1' };
const PROMPT_READY = /\x1b\]133;B;omnish=[0-9a-f]+\x07/;
const configFile = () => join(dir.path, 'config.toml');
const logFile = () => join(dir.path, 'data', 'state', 'omnishd.log');

let first: FakeAnthropicServer;
let second: FakeAnthropicServer;
beforeEach(async () => {
  [first, second] = await Promise.all([FakeAnthropicServer.start(), FakeAnthropicServer.start()]);
});
afterEach(async () => {
  await Promise.all([first.close(), second.close()]);
});

const backend = (name: string, fake: FakeAnthropicServer) =>
  `[llm.${name}]\nbackend = "anthropic"\nmodel = "m-${name}"\nbase_url = "${fake.baseUrl}"\napi_key_env = "OMNISH_TEST_LLM_KEY"\n`;
/** Only what the user asks goes out in these tests. */
const QUIET = '[llm.auto_trigger]\non_nonzero_exit = false\non_stderr_patterns = false\n';

/** Replaces config.toml as an editor does: a new file renamed over the old one. */
function save(text: string): void {
  const tmp = join(dir.path, '.config.toml.swp');
  writeFileSync(tmp, text);
  renameSync(tmp, configFile());
}

interface Status {
  daemon: { pid: number; defaultBackend: string };
  config: { file: string; source: string; loadedAtMs: number; problem: null | { file: string; line: number; col: number; key?: string; error: string } };
}
function status(): Status {
  const r = omnish(dir.path, ['status', '--json'], ENV);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Status;
}

async function daemon(): Promise<number> {
  startDaemon(dir.path, { env: testEnv(dir.path, ENV) });
  return waitDaemon(dir.path);
}

async function ask(): Promise<{ answer: string; backend: string }> {
  const r = await omnishAsync(dir.path, ['ask', '--json', 'which?'], ENV);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { answer: string; backend: string };
}

/** Types a `::` line at a ready prompt; returns what it printed up to the next prompt. */
async function atPrompt(t: Term, line: string): Promise<string> {
  await idlePrompt(t);
  const since = t.mark();
  t.write(`${line}\r`);
  return (await t.waitFor(PROMPT_READY, { since: since + line.length })).replace(/\r/g, '');
}

describe('omnishd reads config.toml again', () => {
  it('a backend added to the file answers the next ask, without a restart', async () => {
    save(`[llm]\ndefault = "first"\n${backend('first', first)}${QUIET}`);
    const pid = await daemon();
    first.enqueue({ kind: 'stream', pieces: ['from first'] });
    expect(await ask()).toMatchObject({ answer: 'from first', backend: 'first' });

    const saved = Date.now();
    save(`[llm]\ndefault = "second"\n${backend('first', first)}${backend('second', second)}${QUIET}`);
    await waitUntil(() => status().daemon.defaultBackend === 'second', 'omnishd to take the edited file');
    const tookMs = Date.now() - saved;
    second.enqueue({ kind: 'stream', pieces: ['from second'] });
    expect(await ask()).toMatchObject({ answer: 'from second', backend: 'second' });
    expect(first.completions).toHaveLength(1);
    expect(daemonPids(dir.path)).toEqual([pid]); // the same omnishd, not a restarted one
    const log = readFileSync(logFile(), 'utf8');
    expect(log).toMatch(/"trigger":"file change","changed":\["llm\.default","\[llm\.second\] added"\],"msg":"config reloaded"/);
    // How long a save takes to reach omnishd, status round trips included (reported in docs/reliability.md).
    expect(tookMs).toBeLessThan(5000);
  });

  it('a broken edit keeps the last good configuration, shown with file, line and key; fixing the file clears it', async () => {
    save(`[llm]\ndefault = "first"\n${backend('first', first)}${QUIET}`);
    await daemon();
    const good = status().config;
    expect(good).toMatchObject({ file: configFile(), source: 'file', problem: null });

    // Line 11: a value of the wrong type.
    save(`[llm]\ndefault = "first"\n${backend('first', first)}${QUIET}max_per_hour = "lots"\n`);
    const problem = await waitUntil(() => status().config.problem, 'omnishd to report the broken file');
    expect(problem).toMatchObject({ file: configFile(), line: 11, col: 1, key: 'llm.auto_trigger.max_per_hour' });
    expect(status().config.loadedAtMs).toBe(good.loadedAtMs); // what is in force did not change

    // The configuration in force still answers.
    first.enqueue({ kind: 'stream', pieces: ['still first'] });
    expect(await ask()).toMatchObject({ answer: 'still first', backend: 'first' });

    const shown = omnish(dir.path, ['status'], ENV).stdout;
    expect(shown).toContain(`config: error since `);
    expect(shown).toContain(`${configFile()}:11:1: llm.auto_trigger.max_per_hour must be an integer, 0 or more`);
    expect(shown).toMatch(/config: omnishd keeps the configuration it read at \d\d:\d\d; it reads the file again when it is saved/);

    const doctor = await omnishAsync(dir.path, ['doctor'], ENV);
    expect(doctor.status).toBe(1);
    expect(doctor.stdout).toMatch(new RegExp(`^✗ config +${configFile()}:11:1: llm\\.auto_trigger\\.max_per_hour must be .* — fix: correct llm\\.auto_trigger\\.max_per_hour on line 11 of `, 'm'));
    expect(doctor.stdout).toMatch(new RegExp(`^! daemon config +omnishd keeps the configuration it read at .*: the file does not load since .*\\(${configFile()}:11:1: llm\\.auto_trigger\\.max_per_hour`, 'm'));

    const reload = omnish(dir.path, ['config', 'reload'], ENV);
    expect(reload.status).toBe(1);
    expect(reload.stdout).toBe('');
    expect(reload.stderr).toMatch(new RegExp(`^${configFile()}:11:1: llm\\.auto_trigger\\.max_per_hour must be .*\nomnishd keeps the configuration it read at \\d\\d:\\d\\d\n$`));
    const json = JSON.parse(omnish(dir.path, ['config', 'reload', '--json'], ENV).stdout) as { outcome: string };
    expect(json.outcome).toBe('invalid');

    await waitUntil(() => readFileSync(logFile(), 'utf8').includes('"key":"llm.auto_trigger.max_per_hour"'), 'the problem in the log');
    const logged = readFileSync(logFile(), 'utf8').split('\n').filter((l) => l.includes('config file does not load'));
    expect(logged).toHaveLength(1); // once, however often it is asked about
    expect(JSON.parse(logged[0]!)).toMatchObject({ level: 50, file: configFile(), line: 11, key: 'llm.auto_trigger.max_per_hour' });

    // Fixed: the report goes, and the fixed value is in force.
    save(`[llm]\ndefault = "first"\n${backend('first', first)}${QUIET}max_per_hour = 5\n`);
    await waitUntil(() => status().config.problem === null, 'the report to clear');
    expect(omnish(dir.path, ['config', 'get', 'llm.auto_trigger.max_per_hour'], ENV).stdout).toBe('5\n');
    expect(omnish(dir.path, ['status'], ENV).stdout).toMatch(/^config: .*config\.toml \(read \d\d:\d\d\)$/m);
    const doctorAfter = await omnishAsync(dir.path, ['doctor', '--json'], ENV);
    const checks = JSON.parse(doctorAfter.stdout) as Array<{ name: string; status: string }>;
    expect(checks.filter((c) => c.name === 'config' || c.name === 'daemon config').map((c) => c.status)).toEqual(['ok', 'ok']);
    const again = omnish(dir.path, ['config', 'reload'], ENV);
    expect(again).toMatchObject({ status: 0, stdout: `${configFile()}: unchanged, omnishd already runs with it\n` });
  });

  it('SIGHUP makes omnishd read the file, and does not stop it', async () => {
    save(`[store]\nmax_age_days = 7\n`);
    const pid = await daemon();
    save(`[store]\nmax_age_days = 8\n`);
    // Sent at once, well inside the watch's quiet time: this reload is the signal's.
    process.kill(pid, 'SIGHUP');
    await waitUntil(() => readFileSync(logFile(), 'utf8').includes('"trigger":"SIGHUP","changed":["store.max_age_days"]'), 'the reload by SIGHUP in the log');
    expect(omnish(dir.path, ['config', 'get', 'store.max_age_days'], ENV).stdout).toBe('8\n');
    expect(status().daemon.pid).toBe(pid);
  });

  it('an ask under way finishes with the backend it started with; a live session goes on recording', async () => {
    save(`[llm]\ndefault = "first"\n${backend('first', first)}${QUIET}`);
    const t = dir.omnish({ env: ENV, args: [] });
    await t.waitFor(PROMPT_READY);
    await runIn(t, 'echo before-reload');
    await waitUntil(() => sessions(dir.path).length === 1, 'the session to register');
    const id = sessions(dir.path)[0]!.id;

    // Slow enough that the reload below happens while it streams.
    first.enqueue({ kind: 'stream', pieces: ['slow ', 'answer'], pieceDelayMs: 2000 });
    let finished = false;
    const inFlight = ask().finally(() => (finished = true));
    await waitUntil(() => first.completions.length === 1, 'the request to reach the first backend');
    save(`[llm]\ndefault = "second"\n${backend('second', second)}${QUIET}`); // the first backend is gone from the file
    await waitUntil(() => status().daemon.defaultBackend === 'second', 'omnishd to take the edited file');
    expect(finished).toBe(false);
    expect(await inFlight).toMatchObject({ answer: 'slow answer', backend: 'first' });
    second.enqueue({ kind: 'stream', pieces: ['quick'] });
    expect(await ask()).toMatchObject({ answer: 'quick', backend: 'second' });

    expect(await runIn(t, 'echo after-$((20+1))')).toContain('after-21');
    await waitUntil(() => omnish(dir.path, ['show', `${id}:-1`], ENV).stdout.includes('after-21'), 'the output after the reload in the same session');
    expect(sessions(dir.path)).toMatchObject([{ id, active: true }]);
  });

  it('::config llm.default NAME names the tables of the file as it is now', async () => {
    save(`[llm]\ndefault = "first"\n${backend('first', first)}${QUIET}`);
    const t = dir.omnish({ env: ENV, args: [] });
    await t.waitFor(PROMPT_READY);
    await runIn(t, 'true');
    await waitUntil(() => sessions(dir.path).length === 1, 'the session to register');
    save(`[llm]\ndefault = "first"\n${backend('first', first)}${backend('second', second)}${QUIET}`);
    // Typed right after the save, inside the watch's quiet time: omnishd reads the file first.
    expect(await atPrompt(t, '::config llm.default second')).toContain('llm.default = "second" in omnishd until it stops');
    expect(await atPrompt(t, '::config llm.default third')).toContain('llm.default must name a [llm.<name>] table (have: first, second)');
    second.enqueue({ kind: 'stream', pieces: ['from second'] });
    expect(await ask()).toMatchObject({ answer: 'from second', backend: 'second' });
    // A later edit of other keys leaves the value set at the prompt in force.
    save(`[llm]\ndefault = "first"\nmax_context_tokens = 4000\n${backend('first', first)}${backend('second', second)}${QUIET}`);
    await waitUntil(() => omnish(dir.path, ['config', 'get', 'llm.max_context_tokens'], ENV).stdout === '4000\n', 'the edit to be in force');
    expect(status().daemon.defaultBackend).toBe('second');
  });
});

describe('omnish config reload', () => {
  it('without omnishd: checks the file, exit 1 when it does not load', () => {
    save('[store]\nmax_age_days = 7\n');
    expect(omnish(dir.path, ['config', 'reload'], ENV)).toMatchObject({
      status: 0, stdout: `omnishd is not running; ${configFile()} is valid, and omnishd reads it when it starts\n`,
    });
    save('[store]\nmax_age_dayz = 7\n');
    expect(omnish(dir.path, ['config', 'reload'], ENV)).toMatchObject({ status: 1, stdout: '', stderr: `${configFile()}:2:1: unknown key store.max_age_dayz\n` });
  });

  it('a file broken when omnishd starts: the defaults run, and the fixed file is taken', async () => {
    save('[llm]\ndefault = "nope"\n');
    await daemon();
    expect(status().config).toMatchObject({ source: 'defaults', problem: { line: 2, key: 'llm.default' } });
    const r = omnish(dir.path, ['config', 'reload'], ENV);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\nomnishd runs on the defaults until the file loads\n$/);
    save(`${backend('first', first)}${QUIET}`);
    await waitUntil(() => status().config.source === 'file', 'the fixed file to be in force');
    expect(status()).toMatchObject({ daemon: { defaultBackend: 'first' }, config: { problem: null } });
  });
});
