/**
 * The one place that knows commander: it turns the command table (CommandSpec, whose usage is
 * data) into a commander program whose actions call each spec's run with the CommandIo of this run.
 * A table entry that is not loaded (CommandEntry) becomes a command that --help lists and nothing runs.
 */
import { Command, Help, Option } from 'commander';
import { VERSION } from '../common/version.js';
import type { CommandIo } from './io.js';
import { isLoaded, type CommandEntry, type CommandSpec, type OptionUsage } from './registry.js';

/** The program name in usage lines: `omnish ask` on the command line, `:: ask` at a prompt. */
export function programName(io: CommandIo): string {
  return io.atPrompt ? '::' : 'omnish';
}

/**
 * Builds the commander program with every command of `specs`, writing through `io`. An entry that
 * is not loaded is listed by --help with its synopsis; it must not be the command that runs
 * (commandsFor in index.ts loads that one), and says so if it is.
 */
export function buildProgram(specs: readonly (CommandSpec | CommandEntry)[], io: CommandIo): Command {
  const name = programName(io);
  // commander derives a command's term in the list from its declared operands and options; an
  // entry declares none, so its term is the synopsis the table gives.
  const synopses = new Map<Command, string>();
  const program = new Command(name)
    .description(
      'A transparent shell wrapper that records your terminal sessions.\n' +
        'Run without a command (or with shell arguments such as -l) to start your shell under omnish.',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand(false)
    .showHelpAfterError(`(run ${name === 'omnish' ? 'omnish --help' : '::help'} for usage)`)
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride()
    .configureHelp({
      subcommandTerm(this: Help, cmd: Command): string {
        const synopsis = synopses.get(cmd);
        if (synopsis === undefined) return Help.prototype.subcommandTerm.call(this, cmd);
        return synopsis === '' ? cmd.name() : `${cmd.name()} ${synopsis}`;
      },
    });
  for (const spec of specs) {
    const cmd = program.command(spec.name).description(spec.summary);
    cmd.configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) }).exitOverride();
    if (isLoaded(spec)) {
      wire(cmd, spec, io);
    } else {
      synopses.set(cmd, spec.synopsis);
      // Reaching this action is a bug of the caller (the command was not loaded): loud, not silent.
      cmd.allowUnknownOption().allowExcessArguments().action(() => {
        throw new Error(`command '${spec.name}' ran without its module loaded (a bug)`);
      });
    }
  }
  return program;
}

/** Declares `spec`'s usage on `cmd` and makes its action call `spec.run(io, operands, options)`. */
function wire(cmd: Command, spec: CommandSpec, io: CommandIo): void {
  const usage = spec.usage;
  for (const arg of usage.arguments ?? []) cmd.argument(arg.name, arg.description);
  for (const opt of usage.options ?? []) cmd.addOption(option(opt));
  if (usage.after !== undefined) cmd.addHelpText('after', usage.after);
  if (usage.subcommands) {
    // `omnish daemon help` would read as one more action; --help is there on every level.
    cmd.helpCommand(false);
    for (const sub of usage.subcommands) {
      const child = sub.usage.implicit ? cmd.command(sub.name, { isDefault: true, hidden: true }) : cmd.command(sub.name).description(sub.summary);
      wire(child, sub, io);
    }
  }
  const run = spec.run;
  // Operands as commander processed them (one slot per declared operand), options by camel-cased name.
  if (run) cmd.action(() => run.call(spec, io, cmd.processedArgs, cmd.opts()));
}

function option(opt: OptionUsage): Option {
  const o = new Option(opt.flags, opt.description);
  if (opt.choices) o.choices(opt.choices);
  if (opt.default !== undefined) o.default(opt.default);
  if (opt.required) o.makeOptionMandatory();
  return o;
}
