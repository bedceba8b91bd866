/**
 * `omnish search` end to end: commands typed into real bash, zsh and fish sessions under omnish
 * are found by words of their output and by every filter; `omnish index rebuild` gives the same
 * hits from the store; `omnish gc` takes deleted sessions' hits away; a damaged index file is
 * rebuilt when omnishd starts; `::search` at the prompt runs in a child, so the shell's omnish
 * process never loads SQLite. Every wait polls the index with a deadline.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDir } from './helpers/fixture.js';
import { omnish, omnishBytes, startDaemon, stopDaemons, waitDaemon } from './helpers/daemon.js';
import { OMNISH, PROMPT_READY, Term, testEnv, waitUntil } from './helpers/term.js';

const dir = useTestDir();

const SHELLS = { bash: '/bin/bash', zsh: '/usr/bin/zsh', fish: '/usr/bin/fish' } as const;

interface Hit {
  session: string;
  seq: number;
  command: string | null;
  cwd: string | null;
  exitCode: number | null;
  host: string;
  snippet: string;
  matches: Array<[number, number]>;
}

function start(shell: keyof typeof SHELLS, cwd?: string): Term {
  return dir.omnish({ args: [], env: { OMNISH_SHELL: SHELLS[shell], XDG_CONFIG_HOME: `${dir.path}/.config`, ...(cwd ? { PWD: cwd } : {}) } });
}

/** Types `cmd` alone and waits for its D mark with status `exit`, then the prompt after it. */
async function alone(t: Term, cmd: string, exit = 0): Promise<void> {
  const since = t.mark();
  t.write(`${cmd}\r`);
  const out = await t.waitFor(new RegExp(`\\x1b\\]133;D;${exit};omnish=`), { since, timeoutMs: 15_000 });
  await t.waitFor(PROMPT_READY, { since: since + out.search(/\x1b\]133;D;/), timeoutMs: 15_000 });
}

/** `omnish search ARGS` run in `cwd`. */
function searchIn(args: string[], cwd = dir.path): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [OMNISH, 'search', ...args], { env: testEnv(dir.path), cwd, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The hits of `omnish search --json ARGS` as `session:seq` (order kept). */
function refs(args: string[], cwd?: string): string[] {
  const r = searchIn([...args, '--json'], cwd);
  expect(r.stderr).toBe('');
  return (JSON.parse(r.stdout) as Hit[]).map((h) => `${h.session}:${h.seq}`);
}

/** omnishd's log lines about the index (for a failure message). */
function indexLog(): string {
  const state = join(dir.path, 'data', 'state');
  try {
    return readdirSync(state).filter((f) => f.endsWith('.log'))
      .flatMap((f) => readFileSync(join(state, f), 'utf8').split('\n').filter((l) => /index|search|session (started|ended)/.test(l))).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls until `omnish search --json ARGS` finds `n` hits. */
async function hitsOnce(args: string[], n: number, what: string): Promise<Hit[]> {
  return waitUntil(() => {
    const r = searchIn([...args, '--json']);
    if (r.status !== 0) return undefined;
    const hits = JSON.parse(r.stdout) as Hit[];
    return hits.length === n ? hits : undefined;
  }, () => `${what}: ${JSON.stringify(searchIn(args))}\nomnishd log:\n${indexLog()}`, 20_000);
}

describe('omnish search', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it(`finds ${shell} commands by words of their output`, async () => {
      const t = start(shell);
      await t.waitFor(PROMPT_READY, { timeoutMs: 15_000 });
      await alone(t, `printf 'zebra%s quagga\\n' ${shell}`);
      await alone(t, `sh -c 'echo ${shell}-falls over; exit 4'`, 4);
      const [hit] = await hitsOnce([`zebra${shell}`], 1, `the ${shell} command`);
      expect(hit).toMatchObject({ command: `printf 'zebra%s quagga\\n' ${shell}`, exitCode: 0, snippet: `zebra${shell} quagga`, host: hostname() });
      expect(hit?.matches).toEqual([[0, `zebra${shell}`.length]]);
      const [failed] = await hitsOnce(['"falls over"', '--exit', 'nonzero'], 1, 'the failed command');
      expect(failed).toMatchObject({ exitCode: 4, snippet: `${shell}-falls over` });
      // What a person sees: ID:SEQ, the command and the snippet (no colours into a pipe).
      const human = searchIn([`zebra${shell}`]);
      expect(human.stdout).toContain(`${hit?.session}:${hit?.seq}`);
      expect(human.stdout).toContain(`\n    zebra${shell} quagga\n`);
      expect(human.stdout).not.toContain('\x1b');
      // omnish status counts what the index holds (the indexer reports it at most a second late).
      await waitUntil(() => (/^search index: 2 commands from 1 session$/m.test(omnish(dir.path, ['status']).stdout) ? true : undefined),
        () => `omnish status: ${omnish(dir.path, ['status']).stdout}`, 10_000);
      t.write('exit\r');
      await t.waitExit();
    });
  }

  it('applies every filter', async () => {
    const work = join(dir.path, 'work');
    mkdirSync(join(work, 'sub'), { recursive: true });
    const t = start('bash');
    await t.waitFor(PROMPT_READY, { timeoutMs: 15_000 });
    await alone(t, `cd ${work}`);
    await alone(t, "echo 'needle one'");
    await alone(t, "sh -c 'echo needle two; exit 3'", 3);
    await alone(t, 'cd sub');
    await alone(t, "echo 'needle three'");
    await alone(t, 'echo haystack # needle');
    const all = (await hitsOnce(['needle'], 4, 'four needles')).map((h) => `${h.session}:${h.seq}`);
    const [four, three, two, one] = all;
    const session = four!.split(':')[0]!;
    expect(refs(['needle', '--exit', 'nonzero'])).toEqual([two]);
    expect(refs(['needle', '--exit', '3'])).toEqual([two]);
    expect(refs(['needle', '--exit', '0'])).toEqual([four, three, one]);
    expect(refs(['needle', '--cwd', work])).toEqual(all);
    expect(refs(['needle', '--cwd', 'sub'], work)).toEqual([four, three]);
    expect(refs(['needle', '--here'], work)).toEqual([two, one]);
    expect(refs(['needle', '--host', hostname()])).toEqual(all);
    expect(refs(['needle', '--host', 'elsewhere'])).toEqual([]);
    expect(refs(['needle', '--session', session.slice(0, 4)])).toEqual(all);
    expect(refs(['needle', '--since', '1h'])).toEqual(all);
    expect(refs(['needle', '--until', '1h'])).toEqual([]);
    expect(refs(['needle', '--in', 'command'])).toEqual(all);
    expect(refs(['sh', '--in', 'command'])).toEqual([two]);
    expect(refs(['sh', '--in', 'output'])).toEqual([]);
    expect(refs(['needle', '--in', 'output'])).toEqual([three, two, one]);
    expect(refs(['needle', '--limit', '2'])).toEqual([four, three]);
    expect(refs(['"needle two"'])).toEqual([two]);
    expect(refs(['needl*', 'NOT', 'haystack'])).toEqual([three, two, one]);
    expect(searchIn(['nothing-like-this']).status).toBe(1);
    expect(searchIn(['x', '--since', 'yesterday']).status).toBe(2);
    // omnish show opens a hit; replay --from (the picker's Ctrl-R) plays from its command on.
    expect(omnish(dir.path, ['show', two!]).stdout).toBe('needle two\n');
    const replayed = omnishBytes(dir.path, ['replay', session, '--from', three!.split(':')[1]!]).toString();
    expect(replayed.startsWith('needle three\r\n')).toBe(true);
    expect(replayed).not.toContain('needle two');
    t.write('exit\r');
    await t.waitExit();
  });

  it('::search at the prompt runs in a child: the shell\'s omnish never loads SQLite', async () => {
    const t = start('bash');
    await t.waitFor(PROMPT_READY, { timeoutMs: 15_000 });
    await alone(t, "echo 'wombat burrow'");
    await hitsOnce(['wombat'], 1, 'the command');
    const since = t.mark();
    t.write('::search wombat\r');
    await t.waitFor(/wombat burrow\x1b\[0m|\x1b\[1;7mwombat/, { since, timeoutMs: 15_000 });
    const maps = readFileSync(`/proc/${t.pid}/maps`, 'utf8');
    expect(maps).not.toMatch(/better_sqlite3/);
    t.write('exit\r');
    await t.waitExit();
  });

  it('with no query on a terminal is a picker: type to filter, Enter prints the output', async () => {
    const t = start('bash');
    await t.waitFor(PROMPT_READY, { timeoutMs: 15_000 });
    await alone(t, "echo 'platypus egg'");
    await alone(t, "echo 'echidna spine'");
    await hitsOnce(['platypus OR echidna'], 2, 'both commands');
    t.write('exit\r');
    await t.waitExit();
    const p = dir.track(new Term(process.execPath, [OMNISH, 'search'], { env: testEnv(dir.path) }));
    await p.waitFor('search:', { timeoutMs: 15_000 });
    await p.waitFor("echo 'echidna spine'", { timeoutMs: 15_000 }); // no query yet: the newest commands
    const since = p.mark();
    p.write('platyp*');
    await p.waitFor(/platypus egg/, { since, timeoutMs: 15_000 });
    p.write('\r');
    expect((await p.waitExit(15_000)).exitCode).toBe(0);
    expect(p.text()).toMatch(/platypus egg\s*$/);
  });
});

describe('the index follows the store', () => {
  it('rebuild gives the same hits; gc removes a deleted session\'s; a damaged file is rebuilt', async () => {
    writeFileSync(join(dir.path, 'config.toml'), '[store]\nmax_age_days = 30\n');
    for (const word of ['kestrel', 'osprey']) {
      const t = start('bash');
      await t.waitFor(PROMPT_READY, { timeoutMs: 15_000 });
      await alone(t, `echo '${word} flies'`);
      await alone(t, `ls /no-such-${word}`, 2);
      // Before the shell exits: on a loaded machine a client may register only after a retry
      // (omnishd just started), and it keeps what it recorded until then for the daemon.
      await hitsOnce([word], 2, `the ${word} commands`);
      t.write('exit\r');
      await t.waitExit();
    }
    const before = await hitsOnce(['kestrel OR osprey'], 4, 'four hits');
    const rebuilt = omnish(dir.path, ['index', 'rebuild']);
    expect(rebuilt.stdout, rebuilt.stderr).toMatch(/^rebuilt the search index: \d+ commands from 2 sessions/);
    expect(JSON.parse(searchIn(['kestrel OR osprey', '--json']).stdout)).toEqual(before);

    // Age the kestrel session past max_age_days; gc deletes it and its hits.
    const sessions = join(dir.path, 'data', 'sessions');
    const victim = before.find((h) => h.snippet.includes('kestrel'))!.session;
    const metaFile = join(sessions, readdirSync(sessions).find((d) => d.endsWith(victim))!, 'meta.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(metaFile, JSON.stringify({ ...meta, startedAt: '2020-01-01T00:00:00.000Z', endedAt: '2020-01-01T01:00:00.000Z' }));
    expect(omnish(dir.path, ['gc']).stdout).toMatch(/evicted 1 session/);
    await hitsOnce(['kestrel OR osprey'], 2, 'the osprey hits alone');

    // A damaged index: omnishd deletes it and rebuilds it from the store when it starts.
    await stopDaemons(dir.path);
    const index = join(dir.path, 'data', 'search.db');
    for (const f of ['-wal', '-shm']) rmSync(`${index}${f}`, { force: true });
    writeFileSync(index, Buffer.alloc(64 * 1024, 'garbage! '));
    expect(searchIn(['osprey']).stderr).toMatch(/search index .* (damaged|schema)/);
    startDaemon(dir.path);
    await waitDaemon(dir.path);
    await hitsOnce(['osprey'], 2, 'the osprey hits after the rebuild');
  });
});
