/**
 * The integration scripts in real bash, zsh and fish, each in a real pty, started the way omnish
 * starts them (integrationFor), with rc files in a private HOME. Assertions are on the marks in
 * the raw bytes the shell wrote.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { scriptPath, type IntegratedShell } from './launch.js';
import { commandOutput, kinds, lastPromptText, latin1, RC, start, stopAll } from './testing.js';

afterEach(stopAll);

/**
 * `sh spy.sh OUT`: writes to OUT the environment and argv of every process it can read, then the
 * nonce file named in its parent shell's environment (and what else is in that directory).
 */
const SPY = `for p in /proc/[0-9]*; do
  tr '\\0' '\\n' <"$p/environ"; tr '\\0' ' ' <"$p/cmdline"; echo
done >"$1" 2>/dev/null
f=$(tr '\\0' '\\n' </proc/$PPID/environ | sed -n 's/^OMNISH_NONCE_FILE=//p')
echo "file=$f" >>"$1"
cat "$f" "\${f%/*}"/* >>"$1" 2>&1
`;

const host = hostname();
const SHELLS: IntegratedShell[] = ['bash', 'zsh', 'fish'];

/** Two lines typed for one command, and the E text each shell reports for them. */
const MULTILINE: Record<IntegratedShell, { lines: string[]; e: string }> = {
  // bash keeps a multi-line command as one history entry joined with `;` (cmdhist without lithist).
  bash: { lines: ['for i in 1 2; do', 'echo $i; done'], e: 'for i in 1 2\\x3b do echo $i\\x3b done' },
  zsh: { lines: ['for i in 1 2; do', 'echo $i; done'], e: 'for i in 1 2\\x3b do\\x0aecho $i\\x3b done' },
  fish: { lines: ['for i in 1 2', 'echo $i; end'], e: 'for i in 1 2\\x0aecho $i\\x3b end' },
};

/**
 * Command lines whose first command is no simple command at top level (a subshell, `time`, `!`...),
 * with their output and exit status. bash's DEBUG trap never fires at top level for most of them:
 * only PS0 sees them start.
 */
const CONSTRUCTS: Record<IntegratedShell, Array<{ line: string; out: RegExp; exit: string }>> = {
  bash: [
    { line: '(echo SUB1; false)', out: /^SUB1\n$/, exit: '1' },
    { line: 'time (echo SUB2)', out: /^SUB2\n\nreal\t/, exit: '0' },
    { line: '{ echo BRACE; (exit 3); }', out: /^BRACE\n$/, exit: '3' },
    { line: '(echo P1) | (cat; exit 4)', out: /^P1\n$/, exit: '4' },
    { line: '! (echo NOT)', out: /^NOT\n$/, exit: '1' },
    { line: 'coproc (exit 0); wait $!; echo CO', out: /CO\n$/, exit: '0' },
    { line: 'time (echo T1; (exit 5))', out: /^T1\n\nreal\t/, exit: '5' },
  ],
  zsh: [
    { line: '(echo SUB1; false)', out: /^SUB1\n$/, exit: '1' },
    { line: 'time (echo SUB2)', out: /^SUB2\n.*total/s, exit: '0' },
    { line: '{ echo BRACE; (exit 3); }', out: /^BRACE\n$/, exit: '3' },
    { line: '(echo P1) | (cat; exit 4)', out: /^P1\n$/, exit: '4' },
    { line: '! (echo NOT)', out: /^NOT\n$/, exit: '1' },
    { line: 'coproc (exit 0); wait; echo CO', out: /CO\n$/, exit: '0' },
  ],
  fish: [
    { line: 'begin; echo SUB1; false; end', out: /^SUB1\n$/, exit: '1' },
    { line: 'time begin; echo SUB2; end', out: /^SUB2\n.*Executed in/s, exit: '0' },
    { line: "fish --no-config -c 'echo CHILD; exit 3'", out: /^CHILD\n$/, exit: '3' },
    { line: 'begin; echo P1; end | begin; cat; false; end', out: /^P1\n$/, exit: '1' },
    { line: 'not begin; echo NOT; end', out: /^NOT\n$/, exit: '1' },
  ],
};

describe.each(SHELLS)('%s: every command line is marked', (shell) => {
  it.each(CONSTRUCTS[shell])('$line: E C, all of its output, D with its status', async ({ line, out, exit }) => {
    const s = start(shell);
    await s.prompt();
    const since = s.length;
    const output = await commandOutput(s, line);
    const marks = s.marks(since);
    expect(kinds(marks)).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
    expect(marks[0]).toEqual({ kind: 'E', cmd: line.replace(/;/g, '\\x3b') });
    expect(marks[2]).toEqual({ kind: 'D', exit });
    // fish writes the window title around a command; the output is what is left.
    expect(output.replace(/\x1b\]0;[^\x07]*\x07/g, '').replace(/\x1b\[[0-9;?]*[a-zA-Z]|\x1b\(B/g, '')).toMatch(out);
  });
});

describe.each(SHELLS)('%s with omnish integration', (shell) => {
  it('marks the first prompt P 7 A B, without D', async () => {
    const s = start(shell);
    const marks = await s.prompt();
    expect(marks).toEqual([{ kind: 'P', cwd: latin1(s.home.path) }, { kind: '7', url: `file://${host}${s.home.path}` }, { kind: 'A' }, { kind: 'B' }]);
  });

  it('marks `true`: E C, then D;0 P 7 A B at the next prompt', async () => {
    const s = start(shell);
    await s.prompt();
    expect(await s.run('true')).toEqual([
      { kind: 'E', cmd: 'true' },
      { kind: 'C' },
      { kind: 'D', exit: '0' },
      { kind: 'P', cwd: latin1(s.home.path) },
      { kind: '7', url: `file://${host}${s.home.path}` },
      { kind: 'A' },
      { kind: 'B' },
    ]);
  });

  it('reports the exit status of `false` (1) and `ls /nonexistent` (2), and the prompt still sees it', async () => {
    const s = start(shell);
    await s.prompt();
    expect(await s.run('false')).toContainEqual({ kind: 'D', exit: '1' });
    expect(lastPromptText(s)).toContain('[1]');
    expect(await s.run('ls /nonexistent')).toContainEqual({ kind: 'D', exit: '2' });
    expect(lastPromptText(s)).toContain('[2]');
  });

  it('sends a multi-line command whole, newlines and ; escaped', async () => {
    const s = start(shell);
    await s.prompt();
    const since = s.length;
    const { lines, e } = MULTILINE[shell];
    const marks = await s.run(lines.join('\r'));
    expect(marks.filter((m) => m.kind === 'E')).toEqual([{ kind: 'E', cmd: e }]);
    expect(marks).toContainEqual({ kind: 'D', exit: '0' });
    expect(s.text(since)).toMatch(/\b1\r\n2\r\n/);
  });

  it('sends `echo a; echo b | cat` as one command line', async () => {
    const s = start(shell);
    await s.prompt();
    const marks = await s.run('echo a; echo b | cat');
    expect(kinds(marks)).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
    expect(marks[0]).toEqual({ kind: 'E', cmd: 'echo a\\x3b echo b | cat' });
  });

  it('reports the new cwd after `cd /tmp`, and escapes odd directory names', async () => {
    const s = start(shell, { files: { 'dir ;\u00e9/.keep': '' } });
    await s.prompt();
    const tmp = await s.run('cd /tmp');
    expect(tmp).toContainEqual({ kind: 'P', cwd: '/tmp' });
    expect(tmp).toContainEqual({ kind: '7', url: `file://${host}/tmp` });
    const odd = await s.run(`cd '${s.home.path}/dir ;\u00e9'`);
    expect(odd).toContainEqual({ kind: 'P', cwd: latin1(`${s.home.path}/dir \\x3b\u00e9`) });
    expect(odd).toContainEqual({ kind: '7', url: `file://${host}${s.home.path}/dir%20%3B%C3%A9` });
  });

  it('Ctrl-C at the prompt gives a new prompt without D', async () => {
    const s = start(shell);
    await s.prompt();
    const since = s.length;
    s.write('echo half-typed');
    await s.waitText((t) => t.includes('half-typed'), 'the typed text echoed', since);
    s.write('\x03');
    const marks = await s.prompt(since);
    expect(kinds(marks)).not.toContain('D');
    expect(kinds(marks)).not.toContain('C');
    expect(kinds(marks)).not.toContain('E');
    // The next command is marked as usual.
    expect(await s.run('false')).toContainEqual({ kind: 'D', exit: '1' });
  });

  it('an empty line gives a new prompt without D', async () => {
    const s = start(shell);
    await s.prompt();
    expect(kinds(await s.run(''))).toEqual(['P', '7', 'A', 'B']);
  });

  it('Ctrl-C during `sleep 30` ends it with D;130', async () => {
    const s = start(shell);
    await s.prompt();
    const since = s.length;
    s.write('sleep 30\r');
    await s.waitText(() => kinds(s.marks(since)).includes('C'), 'C for sleep', since);
    await s.foreground('sleep 30');
    s.write('\x03');
    expect(await s.prompt(since)).toContainEqual({ kind: 'D', exit: '130' });
  });

  it('a forged D from a program does not replace the real one', async () => {
    const s = start(shell);
    await s.prompt();
    const since = s.length;
    const marks = await s.run("printf '\\x1b]133;D;0;omnish=WRONG\\x07'; false");
    expect(marks.filter((m) => m.kind === 'D')).toEqual([{ kind: 'D', exit: '1' }]);
    expect(s.foreignMarks(since).map((p) => p.mark)).toContainEqual({ kind: 'D', exit: '0' });
  });

  it('keeps the nonce out of every environment and argv, and its file is gone before programs run', async () => {
    // A program that looks where programs can look: the environment and argv of every process
    // (/proc keeps the environment a process started with, whatever the shell unset since), and the
    // nonce file whose path the shell got. bash and zsh read the file before the user's rc files
    // run; fish only after config.fish (--init-command runs last), so there only programs run from
    // the prompt are checked.
    const rc = shell === 'fish' ? undefined : `${RC[shell][1]}sh ~/spy.sh rc.txt\n`;
    const s = start(shell, { rc, files: { 'spy.sh': SPY } });
    await s.prompt();
    await s.run('sh ~/spy.sh prompt.txt');
    const dumps = [readFileSync(`${s.home.path}/prompt.txt`, 'latin1')];
    if (rc) dumps.push(readFileSync(`${s.home.path}/rc.txt`, 'latin1'));
    for (const dump of dumps) {
      // The spy did see the shell's environment, and the path of the nonce file in it.
      expect(dump).toContain(`HOME=${s.home.path}`);
      expect(dump).toContain(`file=${s.nonceFile?.path}`);
      expect(dump).toContain('No such file');
      expect(dump).not.toContain(s.nonce);
    }
    expect(existsSync(s.nonceFile?.path as string)).toBe(false);
    // Programs do not even get the path: the shell took it out of its environment.
    expect(await commandOutput(s, "env | grep -c ^OMNISH_ | sed 's/^/count=/'")).toContain('count=0\n');
  });

  it('works from `omnish init` in the rc file of a shell omnish did not start (own nonce)', async () => {
    const rcText = RC[shell][1];
    const line = shell === 'fish' ? `source '${scriptPath(shell)}'` : `. '${scriptPath(shell)}'`;
    // The rc file loads the script as `omnish init` output would be; re-sourcing it is harmless.
    const s = start(shell, { plain: true, rc: `${rcText}${line}\n${line}\n` });
    const first = await s.waitText((t) => /\x1b\]133;B;omnish=[0-9a-f]{16}\x07/.test(t), 'a B mark with a generated nonce');
    const nonce = /omnish=([0-9a-f]{16})/.exec(first)?.[1];
    expect(nonce).toBeDefined();
    const since = s.length;
    s.write('false\r');
    await s.waitText((t) => t.includes(`\x1b]133;B;omnish=${nonce}\x07`), 'the next prompt', since);
    expect(s.text(since)).toContain(`\x1b]133;D;1;omnish=${nonce}\x07`);
    expect(s.text(since).split('\x1b]133;C;').length).toBe(2);
  });
});
