/**
 * `omnish mcp`: a Model Context Protocol server on stdin/stdout, for AI clients (Claude Code,
 * Cursor, VS Code, ...) to read the recorded sessions: read-only tools, every result redacted
 * and capped, every call in the audit log (docs/mcp.md). This module is light: the SDK, zod and
 * the tools load in run(), so `omnish help mcp` and every other command pay nothing for them.
 */
import { UsageError } from '../common/errors.js';
import type { CommandSpec } from './registry.js';

export const mcpCommand: CommandSpec<[]> = {
  name: 'mcp',
  summary: 'serve the recorded sessions to AI clients over MCP (stdio; read-only, redacted, audited)',
  usage: {
    after: '\nAn MCP client starts it (it speaks JSON-RPC on stdin/stdout; nothing else is written to stdout).\n'
      + 'Tools: list_sessions, list_commands, search, get_command_output, last_failure. Setup for Claude Code,\n'
      + 'Cursor, VS Code and others: docs/mcp.md. Each call is listed by omnish audit.\n',
  },
  async run(io) {
    // At a prompt stdin and stdout are the user's terminal, not a client's pipes.
    if (io.atPrompt) throw new UsageError('mcp is started by an MCP client (docs/mcp.md), not at the prompt');
    const { serve } = await import('./mcp-server.js');
    await serve();
  },
};
