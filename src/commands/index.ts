/**
 * Every user command, in the order `--help` lists them. The table names each command's module but
 * does not import it: `omnish --version`, `omnish --help` and a shell start load none of them, and
 * `omnish NAME` loads NAME's alone (with what it imports). Keep each line in step with the
 * command's CommandSpec; src/commands/index.test.ts compares them.
 */
import type { CommandEntry, CommandSpec } from './registry.js';

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'help', summary: 'list the commands, or show how to use one', synopsis: '[command]',
    load: async () => (await import('./help.js')).helpCommand },
  { name: 'ask', summary: 'ask the LLM about what happened in your terminal', synopsis: '[options] <question...>',
    load: async () => (await import('./ask.js')).askCommand },
  { name: 'threads', summary: 'list the conversations kept from ask and auto-explanations (show one, delete them)', synopsis: '',
    load: async () => (await import('./threads.js')).threadsCommand },
  { name: 'fix', summary: 'put the command the LLM last suggested on your command line (not run: Enter runs it)', synopsis: '[options]',
    load: async () => (await import('./fix.js')).fixCommand },
  { name: 'context', summary: 'show exactly what ask would send to the LLM, without sending it', synopsis: '[options]',
    load: async () => (await import('./context.js')).contextCommand },
  { name: 'sessions', summary: 'list recorded sessions (active first, then newest)', synopsis: '[options]',
    load: async () => (await import('./sessions.js')).sessionsCommand },
  { name: 'commands', summary: 'list the commands of a session, with exit status and duration', synopsis: '[options] [id]',
    load: async () => (await import('./commands.js')).commandsCommand },
  { name: 'show', summary: 'print the output of one command, as it looked on the terminal', synopsis: '[options] <ID:SEQ>',
    load: async () => (await import('./show.js')).showCommand },
  { name: 'search', summary: 'find recorded commands by words of their command line or output', synopsis: '[options] [query...]',
    load: async () => (await import('./search.js')).searchCommand },
  { name: 'mcp', summary: 'serve the recorded sessions to AI clients over MCP (stdio; read-only, redacted, audited)', synopsis: '',
    load: async () => (await import('./mcp.js')).mcpCommand },
  { name: 'replay', summary: 'play a recorded session with its original timing', synopsis: '[options] <id>',
    load: async () => (await import('./replay.js')).replayCommand },
  { name: 'export', summary: 'write a session as asciicast (asciinema) or a typescript (scriptreplay)', synopsis: '[options] <id>',
    load: async () => (await import('./export.js')).exportCommand },
  { name: 'status', summary: 'show whether omnishd runs and what it records', synopsis: '[options]',
    load: async () => (await import('./status.js')).statusCommand },
  { name: 'pause', summary: 'stop recording this session until ::resume', synopsis: '',
    load: async () => (await import('./pause.js')).pauseCommand },
  { name: 'resume', summary: 'record this session again after ::pause', synopsis: '',
    load: async () => (await import('./pause.js')).resumeCommand },
  { name: 'config', summary: 'show, change and check the configuration', synopsis: '',
    load: async () => (await import('./config.js')).configCommand },
  { name: 'audit', summary: 'list every request sent to an LLM and every omnish mcp tool call (when, to whom, size, redactions)', synopsis: '[options]',
    load: async () => (await import('./audit.js')).auditCommand },
  { name: 'index', summary: 'manage the search index (rebuild it from the store)', synopsis: '',
    load: async () => (await import('./search-index.js')).indexCommand },
  { name: 'gc', summary: 'free space now: delete old sessions and cut large ones, as [store] in config.toml says', synopsis: '[options]',
    load: async () => (await import('./gc.js')).gcCommand },
  { name: 'daemon', summary: 'start, stop, restart omnishd or show its status', synopsis: '',
    load: async () => (await import('./daemon.js')).daemonCommand },
  { name: 'doctor', summary: 'check the installation, config, permissions, daemon and LLM backends, with fixes', synopsis: '[options]',
    load: async () => (await import('./doctor.js')).doctorCommand },
  { name: 'init', summary: 'print the shell integration script for bash, zsh or fish', synopsis: '<shell>',
    load: async () => (await import('./init.js')).initCommand },
];

/**
 * The table for a run of `args` (a command line without the program name): the command it invokes
 * loaded, every other one left as its entry, which is all `--help` needs. The command is the first
 * word that is not an option, as commander picks it: the program's own options (-V, -h) take no value.
 * @throws what loading the command's module throws (a broken install)
 */
export async function commandsFor(args: readonly string[]): Promise<(CommandSpec | CommandEntry)[]> {
  const name = args.find((a) => !a.startsWith('-'));
  return Promise.all(COMMANDS.map((c) => (c.name === name ? c.load() : c)));
}
