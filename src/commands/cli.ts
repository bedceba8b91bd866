/**
 * `omnish COMMAND ...`: the command-line interface, on commander. Every command's action may throw
 * an OmnishError; it becomes one line on stderr and the error's exit code. Other errors are bugs
 * and keep their stack trace.
 */
import { Command, CommanderError } from 'commander';
import { isUserFacing } from '../common/errors.js';
import { VERSION } from '../common/version.js';
import { COMMANDS } from './index.js';

/** Builds the commander program with every registered command. */
export function buildProgram(): Command {
  const program = new Command('omnish')
    .description(
      'A transparent shell wrapper that records your terminal sessions.\n' +
        'Run without a command (or with shell arguments such as -l) to start your shell under omnish.',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(run omnish --help for usage)')
    .exitOverride();
  for (const spec of COMMANDS) spec.register(program.command(spec.name).description(spec.summary));
  return program;
}

/**
 * Runs the CLI on `args` (without the program name) and exits the process.
 */
export async function runCli(args: string[]): Promise<never> {
  const program = buildProgram();
  try {
    await program.parseAsync(args, { from: 'user' });
    process.exit(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    if (isUserFacing(err)) {
      process.stderr.write(`omnish: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}
