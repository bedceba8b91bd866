/**
 * `omnish init bash|zsh|fish`: prints the shell integration script, for shells omnish did not start
 * itself (e.g. `eval "$(omnish init bash)"` in a shell started by another wrapper).
 */
import { UsageError } from '../common/errors.js';
import { initScript, type IntegratedShell } from '../shell/launch.js';
import type { CommandSpec } from './registry.js';

const SHELLS: readonly IntegratedShell[] = ['bash', 'zsh', 'fish'];

export const initCommand: CommandSpec<[string]> = {
  name: 'init',
  summary: 'print the shell integration script for bash, zsh or fish',
  usage: {
    arguments: [{ name: '<shell>', description: SHELLS.join(' | ') }],
    after: '\nExamples:\n  eval "$(omnish init bash)"    # in ~/.bashrc\n  omnish init fish | source     # in config.fish\n',
  },
  run(io, [shell]) {
    if (!SHELLS.includes(shell as IntegratedShell)) {
      throw new UsageError(`no integration for '${shell}': choose one of ${SHELLS.join(', ')}`);
    }
    io.out(initScript(shell as IntegratedShell));
  },
};
