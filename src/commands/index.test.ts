/**
 * The command table is a copy of what each command's module declares (so that listing the commands
 * loads none of them): every entry must say what its module says, and `--help` must read the same
 * from the table as from the loaded commands.
 */
import { Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './commander.js';
import { COMMANDS, commandsFor } from './index.js';
import type { CommandIo } from './io.js';
import type { CommandSpec } from './registry.js';

function capture(atPrompt = false): CommandIo & { text: () => string } {
  let text = '';
  return {
    out: (s) => void (text += s),
    err: (s) => void (text += s),
    raw: () => undefined,
    isTTY: false,
    atPrompt,
    setExitCode: () => undefined,
    text: () => text,
  };
}

async function loadAll(): Promise<CommandSpec[]> {
  return Promise.all(COMMANDS.map((c) => c.load()));
}

describe('the command table', () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s: name, summary and synopsis are its module\'s', async (_name, entry) => {
    const spec = await entry.load();
    expect(spec.name).toBe(entry.name);
    expect(spec.summary).toBe(entry.summary);
    const cmd = buildProgram([spec], capture()).commands[0]!;
    expect(new Help().subcommandTerm(cmd)).toBe(entry.synopsis === '' ? entry.name : `${entry.name} ${entry.synopsis}`);
  });

  it('--help from the table alone is --help from every loaded command, on the command line and at a prompt', async () => {
    const specs = await loadAll();
    for (const atPrompt of [false, true]) {
      expect(buildProgram(COMMANDS, capture(atPrompt)).helpInformation()).toBe(buildProgram(specs, capture(atPrompt)).helpInformation());
    }
  });

  it('commandsFor loads the command the line runs, and only that one', async () => {
    const loaded = (list: Awaited<ReturnType<typeof commandsFor>>) => list.filter((c) => 'usage' in c).map((c) => c.name);
    expect(loaded(await commandsFor(['--json', 'sessions', 'status']))).toEqual(['sessions']);
    expect(loaded(await commandsFor(['-h']))).toEqual([]);
    expect(loaded(await commandsFor(['nonsense']))).toEqual([]);
  });

  it('a command that was not loaded says so if it is ever run, instead of doing nothing', async () => {
    const program = buildProgram(COMMANDS, capture());
    await expect(program.parseAsync(['sessions', '--json'], { from: 'user' })).rejects.toThrow(/without its module loaded/);
  });
});
