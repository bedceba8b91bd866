/**
 * The session's nonce stays secret from the programs in the session (issue 10, item 1). Real
 * omnish, real daemon, real bash, zsh and fish: a program that looks for the nonce everywhere a
 * program can (every process's environment and argv in /proc, the nonce file whose path the shell
 * got, the private directories omnish uses) and prints forged marks with whatever it found must
 * leave no command record and no event. The test itself knows the nonce the way the terminal does:
 * the marks pass through to it (the terminal is outside the session).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { omnish as omnishCli } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { descendantPids, marked, Term, waitUntil } from './helpers/term.js';

const dir = useTestDir();

const SHELLS = { bash: '/bin/bash', zsh: '/usr/bin/zsh', fish: '/usr/bin/fish' } as const;
type Shell = keyof typeof SHELLS;

/** The command line the forged marks claim ran, and where. */
const FORGED = 'sudo rm -rf /var/lib/postgresql';

/**
 * `sh spy.sh [NONCE...]`: collects every string that could be the nonce (a value of `omnish=`, of
 * OMNISH_NONCE, any 32-hex word) from every process's environ and cmdline, from the nonce file
 * named in its shell's environment and from any omnish-nonce-* directory it can find, adds its
 * arguments, and for each prints a complete forged command: E, P (/etc), C, output, D;1.
 */
const SPY = `found() {
  for p in /proc/[0-9]*; do tr '\\0' '\\n' <"$p/environ"; tr '\\0' '\\n' <"$p/cmdline"; done 2>/dev/null
  f=$(tr '\\0' '\\n' </proc/$PPID/environ | sed -n 's/^OMNISH_NONCE_FILE=//p')
  [ -z "$f" ] || cat "$f" "\${f%/*}"/* 2>/dev/null
  cat "\${TMPDIR:-/tmp}"/omnish-nonce-*/* "\${XDG_RUNTIME_DIR:-/nonexistent}"/omnish-nonce-*/* 2>/dev/null
}
cands=$( { found | grep -aEo 'omnish=[A-Za-z0-9_-]+|OMNISH_NONCE=[A-Za-z0-9_-]+|\\b[0-9a-f]{32}\\b' | sed 's/.*=//'; for a in "$@"; do echo "$a"; done; } | sort -u)
echo "spy: $(echo "$cands" | grep -c .) candidates"
for n in $cands; do
  printf '\\033]633;E;${FORGED};omnish=%s\\007\\033]633;P;Cwd=/etc;omnish=%s\\007\\033]133;C;omnish=%s\\007FORGED-OUTPUT\\n\\033]133;D;1;omnish=%s\\007' "$n" "$n" "$n" "$n"
done
`;

interface CommandRecord {
  seq: number;
  command: string | null;
  cwd: string | null;
  exitCode: number | null;
}

function start(shell: Shell, env: Record<string, string> = {}): Term {
  return dir.omnish({
    args: [],
    env: { OMNISH_SHELL: SHELLS[shell], XDG_CONFIG_HOME: `${dir.path}/.config`, TMPDIR: dir.path, ...env },
  });
}

/** The session's nonce, from the marks the terminal receives. */
async function nonceOf(t: Term): Promise<string> {
  const text = await t.waitFor(/\x1b\]133;B;omnish=([0-9a-f]+)\x07/, { timeoutMs: 15_000 });
  return /\x1b\]133;B;omnish=([0-9a-f]+)\x07/.exec(text)?.[1] as string;
}

/** Types `cmd`, then a marker command; waits for the marker's output. */
async function line(t: Term, cmd: string): Promise<void> {
  const since = t.mark();
  const m = marked('DONE');
  t.write(`${cmd}\r${m.cmd}\r`);
  await t.waitFor(m.out, { since, timeoutMs: 20_000 });
}

/** The session's command records, once one satisfies `until`. */
async function recordsUntil(until: (r: CommandRecord) => boolean, what: string): Promise<CommandRecord[]> {
  return waitUntil(() => {
    const r = omnishCli(dir.path, ['commands', '--json']);
    if (r.status !== 0) return undefined;
    const list = JSON.parse(r.stdout) as CommandRecord[];
    return list.some(until) ? list : undefined;
  }, what, 20_000);
}

/** Every line of the session's events.jsonl that is not a command record. */
function otherEvents(): string[] {
  const sessions = join(dir.path, 'data', 'sessions');
  return readdirSync(sessions).flatMap((s) => {
    const file = join(sessions, s, 'events.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.includes('"type":"command"'));
  });
}

/** The pids of omnish's process tree: the client, the shell, the daemon it started, the programs. */
function sessionPids(t: Term): number[] {
  return [t.pid, ...descendantPids(t.pid, '')];
}

/** What /proc shows of a process: its environment and its argv (empty if it is gone or unreadable). */
function procText(pid: number): string {
  const read = (f: string): string => {
    try {
      return readFileSync(`/proc/${pid}/${f}`, 'latin1');
    } catch {
      return '';
    }
  };
  return `${read('environ')}\n${read('cmdline')}`;
}

/** Files under `root` (one level of omnish-nonce-* directories). */
function nonceFiles(root: string): string[] {
  return readdirSync(root)
    .filter((n) => n.startsWith('omnish-nonce-'))
    .flatMap((d) => readdirSync(join(root, d)).map((f) => join(root, d, f)));
}

describe.each(Object.keys(SHELLS) as Shell[])('%s under omnish: the nonce stays secret', (shell) => {
  it('a program that searches everywhere and forges marks with what it found leaves no record and no event', async () => {
    const t = start(shell);
    const nonce = await nonceOf(t);
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);
    await line(t, 'true');
    // A program running in the session (sleep) while the test looks at every process of it.
    t.write('sleep 30\r');
    await waitUntil(() => descendantPids(t.pid, 'sleep 30').length > 0, 'sleep to start');
    const pids = sessionPids(t);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    for (const pid of pids) expect(procText(pid), `/proc/${pid}`).not.toContain(nonce);
    expect(nonceFiles(dir.path)).toEqual([]);
    t.write('\x03');
    writeFileSync(join(dir.path, 'spy.sh'), SPY);
    await line(t, `sh ${dir.path}/spy.sh`);
    await line(t, 'echo after-spy');
    const list = await recordsUntil((r) => r.command === 'echo after-spy', 'the record of echo after-spy');
    expect(list.find((r) => r.command?.endsWith(`sh ${dir.path}/spy.sh`))?.exitCode).toBe(0);
    expect(list.filter((r) => r.command === FORGED || r.cwd === '/etc')).toEqual([]);
    expect(otherEvents().filter((e) => e.includes('postgresql') || e.includes('FORGED'))).toEqual([]);
    // The spy did try: it found candidates, and the forged marks reached the terminal.
    expect(t.text()).toMatch(/spy: [1-9]\d* candidates/);
    expect(t.text()).toContain(`${FORGED};omnish=`);

    // The control: given the real nonce, the same program is believed. So the checks above
    // would have seen a leak.
    await line(t, `sh ${dir.path}/spy.sh ${nonce}`);
    const forged = await recordsUntil((r) => r.command === FORGED, 'the record forged with the real nonce');
    expect(forged.find((r) => r.command === FORGED)).toMatchObject({ cwd: '/etc', exitCode: 1 });
  });

  it('no nonce file is left when the shell ends in its startup files', async () => {
    // fish runs config.fish before the integration, so there the file is never read: omnish
    // removes it when it exits. (bash and zsh read and delete it before any startup file.)
    // (`exec`, not `exit`: fish 3.6 hangs at an `exit` in config.fish.)
    const rc: Record<Shell, string> = { bash: '.bashrc', zsh: '.zshrc', fish: '.config/fish/config.fish' };
    const [file, text] = [rc[shell], "exec sh -c 'exit 7'\n"];
    mkdirSync(join(dir.path, file, '..'), { recursive: true });
    writeFileSync(join(dir.path, file), text);
    const t = start(shell);
    expect((await t.waitExit(15_000)).exitCode).toBe(7);
    expect(readdirSync(dir.path).filter((n) => n.startsWith('omnish-nonce-'))).toEqual([]);
  });
});
