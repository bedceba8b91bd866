/** Every user command, in the order `--help` lists them. */
import type { CommandSpec } from './registry.js';

export const COMMANDS: readonly CommandSpec[] = [];
