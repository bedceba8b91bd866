/**
 * The MCP server of `omnish mcp` (docs/mcp.md): the SDK's McpServer on stdio, with the tools of
 * src/tools/read-tools.ts and their schemas. Loaded by mcp.ts only when `omnish mcp` runs, so no other
 * command loads the SDK or zod. stdout is the protocol channel: nothing else is written to it.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
// The SDK's docs import zod this way (it declares zod ^3.25 || ^4 as a peer; the v4 API either way).
import * as z from 'zod/v4';
import { VERSION } from '../common/version.js';
import { loadConfig } from '../config/config.js';
import { ConfigError } from '../common/errors.js';
import { redact } from '../redact/redact.js';
import { SessionStore } from '../store/store.js';
import { getOutputTool, lastFailureTool, listCommandsTool, listSessionsTool, searchCommandsTool, type ToolContext } from '../tools/read-tools.js';
import type { ToolText } from '../tools/results.js';
import { AuditingTransport } from './mcp-audit.js';

const INSTRUCTIONS = `omnish records the user's terminal sessions: every command line, its exit status, its working directory and its output.
These tools read that record (they never run a command and never change anything). Secrets are replaced by [REDACTED:kind].
Typical use: last_failure for "why did that fail"; search for a word seen in a command or its output; list_commands with filters;
get_command_output with a session and seq (as in a result's "ref", SESSION:SEQ) for a command's whole output.`;

/** The filters of `omnish search` (docs/search.md), shared by list_commands and search. */
const FILTERS = {
  exit: z.union([z.string(), z.number().int()]).optional()
    .describe('only commands that failed ("nonzero") or that exited with this status (0-255)'),
  cwd: z.string().optional().describe('only commands run in this directory or below it (relative: to the directory omnish mcp runs in)'),
  here: z.boolean().optional().describe('only commands run in exactly the directory omnish mcp runs in (the project the client opened)'),
  host: z.string().optional().describe('only commands run on this host name'),
  session: z.string().optional().describe('only commands of this session (id or a prefix of it, hex)'),
  since: z.string().optional().describe('only commands that ended since: a duration ago (30m, 2h, 3d, 1w) or a date (2026-11-21, 2026-11-21T13:05)'),
  until: z.string().optional().describe('only commands that ended before this (same forms; a date alone: up to its end)'),
  limit: z.number().int().min(1).max(1000).optional().describe('most commands returned (default 20)'),
};

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

/** The context of a call: the store and the user's [redact] settings as config.toml has them now. */
function context(): ToolContext {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    // Redacting without the user's own patterns could let their secrets through: no answer instead.
    if (err instanceof ConfigError) throw new Error(`config.toml does not load, so its [redact] settings are unknown and omnish mcp answers nothing: ${err.message}`, { cause: err });
    throw err;
  }
  return { store: new SessionStore(), redact: config.redact };
}

/**
 * Serves MCP on stdin/stdout until the client closes stdin.
 * @param auditFile where calls are logged (default: the state directory's audit.jsonl)
 */
export async function serve(auditFile?: string): Promise<void> {
  const server = new McpServer({ name: 'omnish', version: VERSION }, { instructions: INSTRUCTIONS });
  const transport = new AuditingTransport(new StdioServerTransport(), auditFile);

  /** Registers a tool whose result is a ToolText; an error's message is redacted like a result. */
  const tool = <S extends z.ZodRawShape>(name: string, description: string, shape: S, run: (ctx: ToolContext, args: z.infer<z.ZodObject<S>>) => Promise<ToolText>): void => {
    // The cast: registerTool infers its callback's argument type from a concrete shape, not from the
    // generic S; the SDK checks the arguments against `shape` before the callback runs.
    server.registerTool(name, { description, inputSchema: shape, annotations: READ_ONLY }, (async (args: z.infer<z.ZodObject<S>>, extra: { requestId: string | number }) => {
      let out: ToolText;
      try {
        out = await run(context(), args);
      } catch (err) {
        throw new Error((await redact((err as Error).message ?? String(err))).text, { cause: err });
      }
      transport.noteResult(extra.requestId, out.redactions, out.truncated);
      return { content: [{ type: 'text' as const, text: out.text }] };
    }) as never);
  };

  tool('list_sessions', 'The recorded terminal sessions, active first, then newest: id, host, shell, tty, start and end, exit, last command and cwd.', {
    limit: z.number().int().min(1).max(1000).optional().describe('most sessions returned (default 50)'),
    active: z.boolean().optional().describe('only sessions whose shell still runs'),
  }, listSessionsTool);
  tool('list_commands', 'Recorded commands, newest first, narrowed by filters (as omnish search\'s options): ref (SESSION:SEQ), command line, cwd, exit status, times, output size.', FILTERS, listCommandsTool);
  tool('search', 'Find recorded commands by words of their command line or output (SQLite FTS5 syntax: words, "a phrase", prefix*, AND/OR/NOT, NEAR(a b, 5)), newest first, each with a line of its output around the match.', {
    query: z.string().describe('what to look for (FTS5 syntax)'),
    ...FILTERS,
    in: z.enum(['command', 'output']).optional().describe('match in the command line only, or in the output only'),
    rank: z.boolean().optional().describe('best match first instead of newest first'),
  }, searchCommandsTool);
  tool('get_command_output', 'The output of one recorded command as the terminal showed it (rendered text: progress bars and cursor movement collapsed), with its command line, cwd and exit status. Long output: the last lines, unless start_line/end_line ask for others.', {
    session: z.string().optional().describe('session id or a unique prefix (default: the session of the shell the client runs in, else the newest)'),
    seq: z.number().int().describe('the command\'s number in its session (1, 2, ...; -1 the last, -2 the one before)'),
    start_line: z.number().int().min(1).optional().describe('first line of the output to return (1-based)'),
    end_line: z.number().int().min(1).optional().describe('last line of the output to return (inclusive)'),
  }, getOutputTool);
  tool('last_failure', 'The command that failed last (exit status other than 0), with the commands before it in its session and its output (the tail when long).', {
    session: z.string().optional().describe('only in this session (id or a unique prefix); default: every session'),
  }, lastFailureTool);

  const closed = new Promise<void>((resolve) => {
    server.server.onclose = resolve;
  });
  await server.connect(transport);
  // The SDK's stdio transport does not notice the end of stdin: the client closing it ends the server.
  process.stdin.once('end', () => void transport.close());
  await closed;
}
