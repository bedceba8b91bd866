/**
 * The tools omnishd's model may call while it answers (`::ask`, `omnish ask`, auto-explanations):
 * their JSON Schemas and a ToolExecutor for the tool loop (src/llm/tool-loop.ts). The reading tools
 * are the very ones `omnish mcp` serves (src/tools/read-tools.ts: redacted, capped); read_file is
 * offered only with `[llm.tools] read_files = true`; suggest_command records the one command the
 * answer proposes (Suggestions) and runs nothing. Each call gets one short line for the user.
 * The model's arguments are untrusted: checked here before any tool sees them.
 */
import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../common/errors.js';
import type { LlmToolsConfig, OmnishConfig } from '../config/config.js';
import type { LlmToolCall, LlmToolDefinition } from '../llm/backend.js';
import type { ToolExecutor, ToolOutcome } from '../llm/tool-loop.js';
import type { SessionStore } from '../store/index.js';
import { getOutputTool, listCommandsTool, listSessionsTool, searchCommandsTool, type FilterArgs, type ToolContext } from '../tools/read-tools.js';
import { readFileInScope } from './read-file.js';

/** What the tools of one request read with. */
export interface AskToolsContext {
  store: SessionStore;
  /** The user's `[redact]` settings. */
  redact: OmnishConfig['redact'];
  /** The search index file (default: the data directory's). */
  indexPath?: string;
  /** The asking session's id (the default of get_command_output), or undefined. */
  sessionId?: string;
  /** The asking session's working directory (read_file, relative cwd filters), or null. */
  cwd: string | null;
  /** The context sent (read_file may read a path named in it). */
  contextText: string;
  tools: LlmToolsConfig;
  /** Told of the command suggest_command proposed; returns it as kept (cleaned), or null. */
  onSuggestion: (command: unknown) => string | null;
}

const FILTERS: Record<string, unknown> = {
  exit: { type: ['string', 'integer'], description: 'only commands that failed ("nonzero") or that exited with this status' },
  cwd: { type: 'string', description: 'only commands run in this directory or below (relative: to the session\'s directory)' },
  host: { type: 'string', description: 'only commands run on this host' },
  session: { type: 'string', description: 'only commands of this session (id or a prefix)' },
  since: { type: 'string', description: 'only commands that ended since: 30m, 2h, 3d, 1w, or a date 2026-11-21' },
  until: { type: 'string', description: 'only commands that ended before this (same forms)' },
  limit: { type: 'integer', minimum: 1, maximum: 100, description: 'most commands returned (default 20)' },
};

const object = (properties: Record<string, unknown>, required: string[] = []): Record<string, unknown> => ({ type: 'object', properties, required, additionalProperties: false });

/** The tools offered, read_file only when `readFiles`. */
export function askToolDefinitions(readFiles: boolean): LlmToolDefinition[] {
  const defs: LlmToolDefinition[] = [
    {
      name: 'search',
      description: 'Find recorded commands by words of their command line or output (SQLite FTS5: words, "a phrase", prefix*, AND/OR/NOT), newest first, each with ref SESSION:SEQ, exit status, cwd and a line of output around the match.',
      inputSchema: object({ query: { type: 'string', description: 'what to look for' }, ...FILTERS, in: { type: 'string', enum: ['command', 'output'] }, rank: { type: 'boolean', description: 'best match first' } }, ['query']),
    },
    { name: 'list_sessions', description: 'The recorded terminal sessions, active first, then newest.', inputSchema: object({ limit: { type: 'integer', minimum: 1, maximum: 200 }, active: { type: 'boolean' } }) },
    { name: 'list_commands', description: 'Recorded commands, newest first, narrowed by filters: ref (SESSION:SEQ), command line, cwd, exit status, times.', inputSchema: object(FILTERS) },
    {
      name: 'get_command_output',
      description: 'The output of one recorded command as the terminal showed it, with its command line, cwd and exit status. Long output: the last lines unless start_line/end_line ask for others.',
      inputSchema: object({
        session: { type: 'string', description: 'session id or prefix (default: the asking session)' },
        seq: { type: 'integer', description: 'the command\'s number in its session (-1 the last)' },
        start_line: { type: 'integer', minimum: 1 },
        end_line: { type: 'integer', minimum: 1 },
      }, ['seq']),
    },
    {
      name: 'suggest_command',
      description: 'Propose the one shell command that fixes the problem, for the user to run themselves (omnish shows it and can put it on their command line; it never runs it). One line.',
      inputSchema: object({ command: { type: 'string', description: 'the command, exactly as it should be typed' } }, ['command']),
    },
  ];
  if (readFiles) {
    defs.push({
      name: 'read_file',
      description: 'A text file under the session\'s working directory, or named in the context (size-capped).',
      inputSchema: object({ path: { type: 'string', description: 'absolute, or relative to the session\'s working directory' } }, ['path']),
    });
  }
  return defs;
}

// ---------------------------------------------------------------- argument checks

type Args = Record<string, unknown>;
const fail = (tool: string, key: string, what: string): never => {
  throw new UsageError(`${tool}: argument ${key} must be ${what}`);
};
function str(a: Args, tool: string, key: string, required = false): string | undefined {
  const v = a[key];
  if (v === undefined || v === null) return required ? fail(tool, key, 'given') : undefined;
  return typeof v === 'string' ? v : fail(tool, key, 'a string');
}
function int(a: Args, tool: string, key: string, required = false): number | undefined {
  const v = a[key];
  if (v === undefined || v === null) return required ? fail(tool, key, 'given') : undefined;
  return Number.isSafeInteger(v) ? (v as number) : fail(tool, key, 'an integer');
}
function bool(a: Args, tool: string, key: string): boolean | undefined {
  const v = a[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'boolean' ? v : fail(tool, key, 'true or false');
}

/** The filters of a call, relative cwd resolved against the session's directory (not omnishd's). */
function filters(a: Args, tool: string, cwd: string | null): FilterArgs {
  const exit = a.exit === undefined || a.exit === null ? undefined : typeof a.exit === 'string' || Number.isSafeInteger(a.exit) ? (a.exit as string | number) : fail(tool, 'exit', '"nonzero" or a number');
  let dir = str(a, tool, 'cwd');
  if (dir !== undefined && !isAbsolute(dir)) dir = cwd === null ? fail(tool, 'cwd', 'absolute (the session\'s directory is unknown)') : resolve(cwd, dir);
  const limit = int(a, tool, 'limit');
  return {
    exit, cwd: dir, host: str(a, tool, 'host'), session: str(a, tool, 'session')?.toLowerCase(),
    since: str(a, tool, 'since'), until: str(a, tool, 'until'), limit: limit === undefined ? undefined : Math.min(100, Math.max(1, limit)),
  };
}

// ---------------------------------------------------------------- summaries

/** A model's string quoted for a line, short. */
const quote = (s: string): string => `"${[...s.replace(/\s+/g, ' ')].slice(0, 40).join('')}${[...s].length > 40 ? '…' : ''}"`;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The items of a cappedJson result (`{ commands: [...] }`), or [] when it is not one. */
function items(text: string, key: string): Array<Record<string, unknown>> {
  try {
    const v = (JSON.parse(text) as Record<string, unknown>)[key];
    return Array.isArray(v) ? (v as Array<Record<string, unknown>>) : [];
  } catch {
    return [];
  }
}

function commandsLine(text: string): string {
  const hits = items(text, 'commands');
  const sessions = new Set(hits.map((h) => h.session)).size;
  return `${plural(hits.length, 'command')}${hits.length > 0 ? ` in ${plural(sessions, 'session')}` : ''}`;
}

// ---------------------------------------------------------------- the executor

/** The executor of one request's tool calls. */
export function askToolExecutor(ctx: AskToolsContext): ToolExecutor {
  const toolCtx: ToolContext = { store: ctx.store, redact: ctx.redact, indexPath: ctx.indexPath };
  const definitions = askToolDefinitions(ctx.tools.readFiles);
  const run = async (call: LlmToolCall): Promise<ToolOutcome> => {
    const a = call.input;
    switch (call.name) {
      case 'search': {
        const query = str(a, 'search', 'query', true) as string;
        const inWhat = str(a, 'search', 'in');
        if (inWhat !== undefined && inWhat !== 'command' && inWhat !== 'output') fail('search', 'in', '"command" or "output"');
        const out = await searchCommandsTool(toolCtx, { ...filters(a, 'search', ctx.cwd), query, in: inWhat as 'command' | 'output' | undefined, rank: bool(a, 'search', 'rank') });
        return { content: out.text, summary: `searched ${quote(query)}: ${commandsLine(out.text)}` };
      }
      case 'list_sessions': {
        const limit = int(a, 'list_sessions', 'limit');
        const out = await listSessionsTool(toolCtx, { limit: limit === undefined ? undefined : Math.min(200, Math.max(1, limit)), active: bool(a, 'list_sessions', 'active') });
        return { content: out.text, summary: `listed ${plural(items(out.text, 'sessions').length, 'session')}` };
      }
      case 'list_commands': {
        const out = await listCommandsTool(toolCtx, filters(a, 'list_commands', ctx.cwd));
        return { content: out.text, summary: `listed ${commandsLine(out.text)}` };
      }
      case 'get_command_output': {
        const seq = int(a, 'get_command_output', 'seq', true) as number;
        // Never pickSession's default: omnishd's own $OMNISH_SESSION is whichever shell started it.
        const session = str(a, 'get_command_output', 'session')?.toLowerCase() ?? ctx.sessionId ?? ctx.store.list()[0]?.id;
        if (session === undefined) throw new UsageError('no sessions recorded yet');
        const start = int(a, 'get_command_output', 'start_line');
        const end = int(a, 'get_command_output', 'end_line');
        const out = await getOutputTool(toolCtx, { session, seq, start_line: start, end_line: end });
        const lines = start !== undefined || end !== undefined ? ` lines ${start ?? 1}-${end ?? 'end'}` : '';
        const where = session === undefined || session === ctx.sessionId ? '' : ` of session ${session.slice(0, 8)}`;
        return { content: out.text, summary: `read the output of command ${seq}${where}${lines}` };
      }
      case 'read_file': {
        if (!ctx.tools.readFiles) throw new UsageError('read_file is off ([llm.tools] read_files = false)');
        const path = str(a, 'read_file', 'path', true) as string;
        const file = readFileInScope(path, { cwd: ctx.cwd, contextText: ctx.contextText, maxBytes: ctx.tools.readFileMaxBytes });
        return { content: file.text, summary: `read file ${quote(path)} (${file.bytes} bytes)` };
      }
      case 'suggest_command': {
        const kept = ctx.onSuggestion(str(a, 'suggest_command', 'command', true));
        if (kept === null) throw new UsageError('suggest_command: the command is empty');
        return { content: 'The command is shown to the user as a suggestion (omnish never runs it). Now give your answer.' };
      }
      default:
        throw new UsageError(`no tool named ${quote(call.name)} (tools: ${definitions.map((d) => d.name).join(', ')})`);
    }
  };
  return { definitions, run };
}
