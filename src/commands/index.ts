/** Every user command, in the order `--help` lists them. */
import { commandsCommand } from './commands.js';
import { helpCommand } from './help.js';
import { initCommand } from './init.js';
import type { CommandSpec } from './registry.js';
import { replayCommand } from './replay.js';
import { sessionsCommand } from './sessions.js';
import { showCommand } from './show.js';
import { statusCommand } from './status.js';

export const COMMANDS: readonly CommandSpec[] = [
  helpCommand, sessionsCommand, commandsCommand, showCommand, replayCommand, statusCommand, initCommand,
];
