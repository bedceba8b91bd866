/**
 * What a user command is: a name, a summary, its usage (operands and options, declared as data) and
 * the function that runs it. Each command lives in its own module under src/commands/ and is served
 * both as `omnish NAME` on the command line and as `::NAME` at a shell prompt; `commander.ts` turns
 * the table into a commander program, so no command knows the parser. The table (index.ts) holds a
 * CommandEntry per command and loads a command's module only when that command runs.
 */
import type { CommandIo } from './io.js';

/** An operand as commander spells it: `<id>` required, `[id]` optional, `<words...>` every remaining word. */
export interface ArgumentUsage {
  readonly name: string;
  /** One line for --help (none: the operand is listed without text). */
  readonly description?: string;
}

/** An option as commander spells it: `--json`, `-s, --sessions <n>` (a value), `-o, --output <file>`. */
export interface OptionUsage {
  readonly flags: string;
  /** One line for --help. */
  readonly description?: string;
  /** The value when the option is not given. */
  readonly default?: string;
  /** The only values accepted (anything else is a usage error that lists them). */
  readonly choices?: readonly string[];
  /** The option must be given. */
  readonly required?: boolean;
}

/** How a command is typed, and what --help says about it. */
export interface Usage {
  readonly arguments?: readonly ArgumentUsage[];
  readonly options?: readonly OptionUsage[];
  /** Printed after the generated help (examples, exit statuses); starts with its own blank line. */
  readonly after?: string;
  /** Sub-commands (`omnish daemon stop`). A command made of sub-commands has no run of its own. */
  readonly subcommands?: readonly CommandSpec[];
  /** For a sub-command: it runs when no other sub-command is named (`omnish config KEY`), and --help does not list it. */
  readonly implicit?: boolean;
}

/**
 * One user command. `A` is its operands in the order `usage.arguments` declares them (undefined
 * for an optional one not given, an array for `<words...>`); `O` its options by camel-cased long
 * name (`--dry-run` → `dryRun`).
 */
export interface CommandSpec<A extends readonly unknown[] = readonly unknown[], O extends object = object> {
  /** Name as typed: `omnish NAME`, `::NAME`. */
  readonly name: string;
  /** One line for `--help` and `::help`. */
  readonly summary: string;
  readonly usage: Usage;
  /**
   * Runs the command, writing only through `io`. Absent for a command made of sub-commands.
   * @throws OmnishError (UsageError for bad input): one line on stderr and its exit status
   */
  run?(io: CommandIo, args: A, opts: O): void | Promise<void>;
}

/**
 * A line of the command table (index.ts): what `omnish --help` and `::help` list, and how to load
 * the command's module. Start-up reads the table only; the module (and what it imports) loads when
 * the command runs or its own --help is asked for.
 */
export interface CommandEntry {
  /** As CommandSpec.name. */
  readonly name: string;
  /** As CommandSpec.summary. */
  readonly summary: string;
  /**
   * What `omnish --help` lists after the name, as commander derives it from the usage:
   * `[options]` when there are options, then the operands (`[options] <question...>`); '' for none.
   */
  readonly synopsis: string;
  /**
   * Imports the command's module.
   * @returns its CommandSpec, whose name, summary and synopsis are the entry's (src/commands/index.test.ts checks)
   * @throws what the import throws (a broken install)
   */
  load(): Promise<CommandSpec>;
}

/** True for a loaded command, false for a table entry that only knows how to load it. */
export function isLoaded(c: CommandSpec | CommandEntry): c is CommandSpec {
  return 'usage' in c;
}
