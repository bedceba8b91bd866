/**
 * `omnish COMMAND ...` and `::COMMAND ...`: one command table, parsed by commander. Every command's
 * action may throw an OmnishError; it becomes one line on stderr and the error's exit code. Other
 * errors are bugs and keep their stack trace on the command line.
 */
import { Command, CommanderError } from 'commander';
import { isUserFacing } from '../common/errors.js';
import { sanitizeText } from '../common/sanitize.js';
import { VERSION } from '../common/version.js';
import { COMMANDS } from './index.js';
import { io, processIo, withIo, type CommandIo } from './io.js';

/** Builds the commander program with every registered command, writing through `out`. */
export function buildProgram(out: CommandIo, name = 'omnish'): Command {
  const program = new Command(name)
    .description(
      'A transparent shell wrapper that records your terminal sessions.\n' +
        'Run without a command (or with shell arguments such as -l) to start your shell under omnish.',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand(false)
    .showHelpAfterError(`(run ${name === 'omnish' ? 'omnish --help' : '::help'} for usage)`)
    .configureOutput({ writeOut: (s) => out.out(s), writeErr: (s) => out.err(s) })
    .exitOverride();
  for (const spec of COMMANDS) {
    const cmd = program.command(spec.name).description(spec.summary);
    cmd.configureOutput({ writeOut: (s) => out.out(s), writeErr: (s) => out.err(s) }).exitOverride();
    spec.register(cmd);
  }
  return program;
}

/**
 * Runs one command line through the table with `out` as its I/O.
 * @returns the exit status: 0, the command's own, 1/2 for OmnishError/UsageError, commander's for bad usage
 * @throws anything that is not an OmnishError (a bug)
 */
export async function runCommand(args: string[], out: CommandIo, name = 'omnish'): Promise<number> {
  let status = 0;
  const restore = withIo({ ...out, setExitCode: (code) => (status = code) });
  try {
    await buildProgram(io(), name).parseAsync(args, { from: 'user' });
    return status;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (isUserFacing(err)) {
      // A message can carry what a server or the daemon said, or a value from the store: sanitized.
      out.err(`omnish: ${sanitizeText(err.message)}\n`);
      return err.exitCode;
    }
    throw err;
  } finally {
    restore();
  }
}

/** Runs the CLI on `args` (without the program name) and exits the process. */
export async function runCli(args: string[]): Promise<never> {
  process.exit(await runCommand(args, processIo()));
}
