/** Every user command, in the order `--help` lists them. */
import type { CommandSpec } from './registry.js';
import { replayCommand } from './replay.js';
import { sessionsCommand } from './sessions.js';
import { statusCommand } from './status.js';

export const COMMANDS: readonly CommandSpec[] = [sessionsCommand, replayCommand, statusCommand];
