/**
 * Decides what `omnish ...` means: a CLI command (`omnish sessions`, `--help`, `--version`) or a
 * shell invocation (no arguments, shell flags such as `-l` or `-c CMD`, a script operand).
 * Each path loads only its own code: the shell path never loads the command table, a command loads
 * its own module only (src/commands/index.ts), and `--version` loads neither commander nor a command.
 */
import { existsSync } from 'node:fs';
import type { LaunchInfo } from './main.js';

/** Flags that belong to omnish's CLI rather than to the wrapped shell. */
const CLI_FLAGS = new Set(['-h', '--help', '-V', '--version', 'help']);

/** Entry point used by bin/omnish.js. */
export async function main(launch: LaunchInfo): Promise<void> {
  const first = launch.args[0];
  // Shell flags (-l, --norc) never name a command: only look the table up for a bare word, so a
  // login shell does not pay for loading the CLI.
  if (first !== undefined && (CLI_FLAGS.has(first) || !first.startsWith('-'))) {
    if (launch.args.length === 1 && (first === '--version' || first === '-V')) {
      // What commander prints for it, without loading commander (the most frequent call of scripts).
      const { VERSION } = await import('../common/version.js');
      process.stdout.write(`${VERSION}\n`);
      return;
    }
    const { COMMANDS } = await import('../commands/index.js');
    if (CLI_FLAGS.has(first) || COMMANDS.some((c) => c.name === first)) {
      const [{ runCli }, { cliIo }] = await Promise.all([import('../commands/cli.js'), import('./cli-io.js')]);
      await runCli(launch.args, cliIo());
      return;
    }
    // A bare word that is neither a command nor a script file is most likely a mistyped command.
    if (!first.startsWith('-') && !existsSync(first)) {
      process.stderr.write(`omnish: unknown command '${first}' (omnish --help lists the commands)\n`);
      process.exit(2);
    }
  }
  // Loaded only for a shell: a failure to load it is the launcher's to catch (bin/omnish.js runs the real shell).
  const { runAsShell } = await import('./main.js');
  await runAsShell(launch);
}
