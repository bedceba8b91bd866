/** `omnish help [CMD]` / `::help [CMD]`: the commands, or one command's usage. */
import { UsageError } from '../common/errors.js';
import { buildProgram } from './commander.js';
import { COMMANDS, commandsFor } from './index.js';
import type { CommandSpec } from './registry.js';

/** Renders the command list as `::help` shows it. */
export function helpText(specs: readonly { name: string; summary: string }[], atPrompt: boolean): string {
  const width = Math.max(...specs.map((s) => s.name.length));
  const prefix = atPrompt ? '::' : 'omnish ';
  const lines = specs.map((s) => `  ${prefix}${s.name.padEnd(width)}  ${s.summary}`);
  const more = atPrompt ? '::help CMD' : 'omnish help CMD (or omnish CMD --help)';
  return `omnish commands:\n${lines.join('\n')}\n\nDetails: ${more}\n`;
}

export const helpCommand: CommandSpec<[string | undefined]> = {
  name: 'help',
  summary: 'list the commands, or show how to use one',
  usage: { arguments: [{ name: '[command]', description: 'a command name' }] },
  async run(io, [name]) {
    if (!name) return io.out(helpText(COMMANDS, io.atPrompt));
    // The command's own usage is in its module: loaded now, as when it runs.
    const target = buildProgram(await commandsFor([name]), io).commands.find((c) => c.name() === name);
    if (!target) throw new UsageError(`unknown command '${name}'; ${io.atPrompt ? '::help' : 'omnish help'} lists them`);
    io.out(target.helpInformation());
  },
};
