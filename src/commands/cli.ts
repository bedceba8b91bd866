/**
 * `omnish COMMAND ...` and `::COMMAND ...`: one command table, parsed by commander. Every command's
 * action may throw an OmnishError; it becomes one line on stderr and the error's exit code. Other
 * errors are bugs and keep their stack trace on the command line.
 */
import { CommanderError } from 'commander';
import { isUserFacing } from '../common/errors.js';
import { sanitizeText } from '../common/sanitize.js';
import { buildProgram } from './commander.js';
import { commandsFor } from './index.js';
import { processIo, type CommandIo } from './io.js';

/**
 * Runs one command line through the table with `out` as its I/O (usage lines say `omnish NAME`, or
 * `:: NAME` when `out.atPrompt`).
 * @returns the exit status: 0, the command's own, 1/2 for OmnishError/UsageError, commander's for bad usage
 * @throws anything that is not an OmnishError (a bug)
 */
export async function runCommand(args: string[], out: CommandIo): Promise<number> {
  let status = 0;
  const io: CommandIo = { ...out, setExitCode: (code) => (status = code) };
  // Only the command that runs is loaded (a broken module fails here, as a bug: it is no OmnishError).
  const specs = await commandsFor(args);
  try {
    await buildProgram(specs, io).parseAsync(args, { from: 'user' });
    return status;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (isUserFacing(err)) {
      // A message can carry what a server or the daemon said, or a value from the store: sanitized.
      out.err(`omnish: ${sanitizeText(err.message)}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

/** Resolves once everything written to `stream` so far has been handed to the kernel. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}

/**
 * Runs the CLI on `args` (without the program name) with `io` (default: stdout/stderr) and exits the process.
 * Waits for stdout and stderr first: to a pipe, a large write (`omnish show --raw | wc -c`) is still
 * queued when the command returns, and process.exit would cut it at the pipe's 64 KiB.
 */
export async function runCli(args: string[], io: CommandIo = processIo()): Promise<never> {
  const code = await runCommand(args, io);
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
