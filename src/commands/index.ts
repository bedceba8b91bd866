/** Every user command, in the order `--help` lists them. */
import { helpCommand } from './help.js';
import type { CommandSpec } from './registry.js';
import { replayCommand } from './replay.js';
import { sessionsCommand } from './sessions.js';
import { statusCommand } from './status.js';

export const COMMANDS: readonly CommandSpec[] = [helpCommand, sessionsCommand, replayCommand, statusCommand];
