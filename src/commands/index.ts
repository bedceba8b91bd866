/** Every user command, in the order `--help` lists them. */
import { askCommand } from './ask.js';
import { auditCommand } from './audit.js';
import { commandsCommand } from './commands.js';
import { configCommand } from './config.js';
import { contextCommand } from './context.js';
import { daemonCommand } from './daemon.js';
import { doctorCommand } from './doctor.js';
import { exportCommand } from './export.js';
import { gcCommand } from './gc.js';
import { helpCommand } from './help.js';
import { initCommand } from './init.js';
import { pauseCommand, resumeCommand } from './pause.js';
import type { CommandSpec } from './registry.js';
import { replayCommand } from './replay.js';
import { sessionsCommand } from './sessions.js';
import { showCommand } from './show.js';
import { statusCommand } from './status.js';

export const COMMANDS: readonly CommandSpec[] = [
  helpCommand,
  askCommand,
  contextCommand,
  sessionsCommand,
  commandsCommand,
  showCommand,
  replayCommand,
  exportCommand,
  statusCommand,
  pauseCommand,
  resumeCommand,
  configCommand,
  auditCommand,
  gcCommand,
  daemonCommand,
  doctorCommand,
  initCommand,
];
