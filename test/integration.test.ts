/**
 * Shell integration end to end: real bash, zsh and fish under omnish record every command with its
 * text, cwd and exit status; `::` commands work at a prompt and nowhere else.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readOutputRange } from '../src/store/index.js';
import { omnish as omnishCli, omnishBytes, waitDaemon } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { descendantPids, marked, quitVim, runIn, Term, waitUntil } from './helpers/term.js';

const dir = useTestDir();

interface CommandRecord {
  seq: number;
  command: string | null;
  cwd: string | null;
  exitCode: number | null;
  altScreen: boolean;
  outputStart: number;
  outputEnd: number;
}

const SHELLS = { bash: '/bin/bash', zsh: '/usr/bin/zsh', fish: '/usr/bin/fish' } as const;

function start(shell: keyof typeof SHELLS): Term {
  // No shell arguments: the user's (empty) rc files are read as usual.
  return dir.omnish({ args: [], env: { OMNISH_SHELL: SHELLS[shell], XDG_CONFIG_HOME: `${dir.path}/.config` } });
}

/** The integration's prompt-ready mark (B); marks pass through to the terminal. */
const PROMPT_READY = /\x1b\]133;B;omnish=[0-9a-f]+\x07/;

/** Waits for the next prompt to be ready after byte `since`. */
async function promptAfter(t: Term, since: number): Promise<void> {
  await t.waitFor(PROMPT_READY, { since, timeoutMs: 15_000 });
}

/** Types `cmd` as its own command line, then a marker line; waits for the marker and the prompt after it. */
async function line(t: Term, cmd: string): Promise<void> {
  const since = t.mark();
  const m = marked('DONE');
  t.write(`${cmd}\r`);
  t.write(`${m.cmd}\r`);
  const out = await t.waitFor(m.out, { since, timeoutMs: 15_000 });
  await promptAfter(t, since + out.indexOf(m.out));
}

/** Runs `cmd` alone (no marker after it, so `$?` stays its status) and waits for the prompt after it. */
async function alone(t: Term, cmd: string, exit: number): Promise<void> {
  const since = t.mark();
  t.write(`${cmd}\r`);
  const out = await t.waitFor(new RegExp(`\\x1b\\]133;D;${exit};omnish=`), { since, timeoutMs: 15_000 });
  await promptAfter(t, since + out.search(/\x1b\]133;D;/));
}

/** The session's command records, once the record of `last` (the last command typed) is there. */
async function records(last: string): Promise<CommandRecord[]> {
  let seen = 'none';
  return waitUntil(
    () => {
      const r = omnishCli(dir.path, ['commands', '--json']);
      if (r.status !== 0) return void (seen = `omnish commands failed: ${r.stderr.trim()}`);
      const list = JSON.parse(r.stdout) as CommandRecord[];
      seen = JSON.stringify(list.slice(-4).map((c) => [c.command, c.exitCode]));
      return list.some((c) => c.command === last) ? list : undefined;
    },
    () => `the record of ${last} (the last records: ${seen})`,
    15_000,
  );
}

/**
 * The recorded output of a command of the test's only session, as `omnish show --raw` writes it to
 * a pipe, checked against the stream file itself (a pipe once cut it at 64 KiB).
 */
function recordedOutput(r: CommandRecord): string {
  const sessions = join(dir.path, 'data', 'sessions');
  const [session] = readdirSync(sessions);
  const stream = join(sessions, session as string, 'stream.bin');
  const stored = readOutputRange(stream, r.outputStart, r.outputEnd, { cols: 80, rows: 24 }).data;
  const shown = omnishBytes(dir.path, ['show', '--raw', `${(session as string).split('_').pop()}:${r.seq}`]);
  expect(shown.length).toBe(stored.length);
  expect(Buffer.compare(shown, stored)).toBe(0);
  return shown.toString('latin1');
}

function find(list: CommandRecord[], command: string): CommandRecord {
  const hit = list.find((r) => r.command === command);
  if (!hit) throw new Error(`no record for ${JSON.stringify(command)} in ${JSON.stringify(list.map((r) => r.command))}`);
  return hit;
}

const multiLine: Record<keyof typeof SHELLS, string> = {
  bash: 'for i in 1 2\rdo echo "n$i"\rdone',
  zsh: 'for i in 1 2\rdo echo "n$i"\rdone',
  fish: 'for i in 1 2\recho "n$i"\rend',
};

describe.each(Object.keys(SHELLS) as Array<keyof typeof SHELLS>)('%s under omnish', (shell) => {
  it('records commands with their text, cwd and exit status', async () => {
    const t = start(shell);
    await line(t, 'true');
    await line(t, 'false');
    await line(t, 'ls /nonexistent');
    await line(t, multiLine[shell]);
    await line(t, 'echo a; echo b | cat');
    // A program printing a look-alike mark without the session's nonce changes nothing.
    await line(t, "printf '\\033]133;D;0;omnish=forged\\007'; false");
    await line(t, 'cd /tmp');
    await line(t, 'pwd');
    // Ctrl-C during a command: status 130.
    t.write('sleep 30\r');
    await waitUntil(() => descendantPids(t.pid, 'sleep 30').length > 0, 'sleep to start');
    t.write('\x03');
    await line(t, 'true');
    // Ctrl-C at a prompt with a half-typed line: no command ran.
    const typed = t.mark();
    t.write('echo never-run');
    await t.waitFor('never-run', { since: typed });
    let interrupted = t.mark();
    t.write('\x03');
    // The shell shows it took the interrupt: bash and zsh echo ^C and draw a new prompt (B); fish
    // 3 clears the line in place, sometimes without either. Wait for the new prompt, not the ^C:
    // fish echoes ^C first and throws away keys typed before its new prompt (the next command
    // was lost under load). The record check below is the assertion.
    // Under load a ^C was once not acted on within 10 s (the next line joined the half-typed one,
    // on the JavaScript relay): a second ^C at a line already cleared changes nothing.
    if (!(await t.waitFor(/\x1b\]133;B;omnish=/, { since: interrupted, timeoutMs: 5000 }).then(() => true, () => false))) {
      interrupted = t.mark();
      t.write('\x03');
      await t.waitFor(/\x1b\]133;B;omnish=/, { since: interrupted, timeoutMs: 5000 }).catch(() => undefined);
    }
    await line(t, 'echo the-end');
    const list = await records('echo the-end');
    expect(find(list, 'true').exitCode).toBe(0);
    expect(find(list, 'false').exitCode).toBe(1);
    expect(find(list, 'ls /nonexistent').exitCode).toBe(2);
    const loop = list.find((r) => r.command?.startsWith('for i in 1 2'));
    // bash keeps a multi-line command as one line joined with ';' (cmdhist); zsh and fish keep the newlines.
    expect(loop?.command).toMatch(shell === 'bash' ? /^for i in 1 2; do echo "n\$i"; done$/ : /\n/);
    expect(loop?.exitCode).toBe(0);
    expect(find(list, 'echo a; echo b | cat').exitCode).toBe(0);
    expect(find(list, "printf '\\033]133;D;0;omnish=forged\\007'; false").exitCode).toBe(1);
    expect(find(list, 'pwd').cwd).toBe('/tmp');
    expect(find(list, 'cd /tmp').cwd).not.toBe('/tmp');
    expect(find(list, 'sleep 30').exitCode).toBe(130);
    expect(list.filter((r) => r.command?.includes('never-run'))).toEqual([]);
  });

  it('records subshell and `time` commands with their exit status and their whole output', async () => {
    // ~690 KB of output each: far more than one read of the pty, and than the detector's tail.
    // (Under spawnSync's 1 MiB limit for `omnish show --raw`.)
    const big = 'seq 1 100000';
    const [sub, timed] =
      shell === 'fish'
        ? [`begin; ${big}; false; end`, `time begin; ${big}; end; echo DONE`]
        : [`(${big}; false)`, `time (${big}); echo DONE`];
    const t = start(shell);
    await line(t, 'true');
    // One at a time: a line typed ahead would be echoed into the running command's output.
    await alone(t, sub, 1);
    await alone(t, timed, 0);
    await line(t, 'echo the-end');
    const list = await records('echo the-end');
    expect(find(list, sub).exitCode).toBe(1);
    expect(find(list, timed).exitCode).toBe(0);
    const seqBytes = Array.from({ length: 100000 }, (_, i) => String(i + 1).length + 1).reduce((a, b) => a + b);
    for (const command of [sub, timed]) {
      const r = find(list, command);
      expect(r.outputEnd - r.outputStart).toBeGreaterThanOrEqual(seqBytes);
      // Without CRs and escape sequences (fish sets the window title and resets colours first).
      const out = recordedOutput(r).replace(/\r|\x1b\][^\x07]*\x07|\x1b\[[0-9;?]*[a-zA-Z]|\x1b\(B/g, '');
      expect(out).toMatch(/^1\n2\n3\n/);
      expect(out).toContain('\n99999\n100000\n');
    }
    const timedOut = recordedOutput(find(list, timed));
    expect(timedOut).toMatch(/DONE/);
    expect(timedOut).toMatch(shell === 'fish' ? /Executed in/ : shell === 'zsh' ? /total/ : /real/);
  });

  it('marks a full-screen program as using the alternate screen', async () => {
    const t = start(shell);
    await line(t, 'true');
    t.write('vim -u NONE -N -n -i NONE\r');
    // vim drops typeahead when it switches the tty to raw mode: wait until its intro is fully drawn.
    await t.waitScreen((s) => s.some((l) => l.includes('for version info')), 'vim to draw');
    await quitVim(t);
    await line(t, 'echo after-vim');
    const list = await records('echo after-vim');
    expect(find(list, 'vim -u NONE -N -n -i NONE').altScreen).toBe(true);
    expect(find(list, 'true').altScreen).toBe(false);
  });

  it('::help shows the commands at a prompt and leaves no trace in history; $? is kept', async () => {
    const t = start(shell);
    await line(t, 'true');
    await alone(t, 'false', 1);
    const since = t.mark();
    t.write('::help\r');
    await t.waitFor('::replay', { since });
    const status = shell === 'fish' ? 'echo "st=$status"' : 'echo "st=$?"';
    const after = t.mark();
    t.write(`${status}\r`);
    expect(await t.waitFor(/st=\d+/, { since: after })).toMatch(/st=1/);
    const history = shell === 'fish' ? 'history | head -5' : 'fc -l -5';
    expect(await runIn(t, history)).not.toContain('::help');
  });
});

describe('`::` at the prompt only', () => {
  it('passes :: typed into a running program (cat) through to it', async () => {
    const t = start('bash');
    await line(t, 'true');
    const since = t.mark();
    t.write('cat\r');
    await waitUntil(() => descendantPids(t.pid, 'cat').length > 0, 'cat to start');
    t.write('::help\r');
    // cat echoes the line back: the line reached cat; the help did not appear.
    await t.waitFor(/::help\r\n::help/, { since });
    t.write('\x04');
    await line(t, 'true');
    expect(t.text().slice(since)).not.toContain('list the commands');
  });

  it('Ctrl-C in a half-typed :: line returns to a clean prompt', async () => {
    const t = start('bash');
    await line(t, 'true');
    await alone(t, 'false', 1);
    t.write('::repl');
    t.write('\x03');
    const since = t.mark();
    t.write('echo "st=$?"\r');
    // The shell never saw the line: its input is clean and $? is unchanged.
    expect(await t.waitFor(/st=\d+/, { since })).toMatch(/st=1/);
  });

  it('without shell integration (sh) nothing is intercepted and status says why', async () => {
    const t = dir.omnish({ args: [], env: { OMNISH_SHELL: '/bin/sh', PS1: 'PROMPT$ ' } });
    await runIn(t, 'true');
    const since = t.mark();
    t.write('::help\r');
    await t.waitFor(/not found|::help: /, { since });
    await waitDaemon(dir.path);
    const status = await waitUntil(() => {
      const r = omnishCli(dir.path, ['status']);
      return r.stdout.includes('integration') ? r.stdout : undefined;
    }, 'status with the integration state');
    expect(status).toMatch(/shell integration: off \(unsupported shell 'sh'\)/);
  });
});
