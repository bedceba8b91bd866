/**
 * The table of user commands. Each command lives in its own module under src/commands/ and is
 * served both as `omnish NAME` on the command line and as `::NAME` at a shell prompt. Entries load
 * their module lazily so that starting a shell does not pay for the CLI.
 */
import type { Command } from 'commander';

/** One user command. */
export interface CommandSpec {
  /** Name as typed: `omnish NAME`, `::NAME`. */
  name: string;
  /** One line for `--help` and `::help`. */
  summary: string;
  /** Adds arguments/options and the action to the commander command created for it. */
  register: (cmd: Command) => void;
}

/** Names that select the CLI rather than a shell invocation (`omnish NAME ...`). */
export function commandNames(specs: readonly CommandSpec[]): Set<string> {
  return new Set(specs.map((s) => s.name));
}
