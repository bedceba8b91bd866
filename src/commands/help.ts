/** `omnish help [CMD]` / `::help [CMD]`: the commands, or one command's usage. */
import type { Command } from 'commander';
import { UsageError } from '../common/errors.js';
import { io } from './io.js';
import type { CommandSpec } from './registry.js';

/** Renders the command list as `::help` shows it. */
export function helpText(specs: readonly CommandSpec[], atPrompt: boolean): string {
  const width = Math.max(...specs.map((s) => s.name.length));
  const prefix = atPrompt ? '::' : 'omnish ';
  const lines = specs.map((s) => `  ${prefix}${s.name.padEnd(width)}  ${s.summary}`);
  const more = atPrompt ? '::help CMD' : 'omnish help CMD (or omnish CMD --help)';
  return `omnish commands:\n${lines.join('\n')}\n\nDetails: ${more}\n`;
}

export const helpCommand: CommandSpec = {
  name: 'help',
  summary: 'list the commands, or show how to use one',
  register(cmd: Command) {
    cmd.argument('[command]', 'a command name').action(async (name: string | undefined) => {
      const { COMMANDS } = await import('./index.js');
      if (!name) return io().out(helpText(COMMANDS, io().atPrompt));
      const target = cmd.parent?.commands.find((c) => c.name() === name);
      if (!target) throw new UsageError(`unknown command '${name}'; ${io().atPrompt ? '::help' : 'omnish help'} lists them`);
      io().out(target.helpInformation());
    });
  },
};
