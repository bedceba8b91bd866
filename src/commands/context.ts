/**
 * `omnish context` / `::context`: prints exactly what `ask` would send to the LLM (after redaction),
 * without sending it.
 */
import { request } from '../control/request.js';
import { safeJson, sanitizeLine, sanitizeText } from '../common/sanitize.js';
import { SCOPE_OPTIONS, scopeParams, type ScopeFlags } from './ask.js';
import type { CommandIo } from './io.js';
import type { CommandSpec } from './registry.js';

async function run(out: CommandIo, flags: ScopeFlags & { json?: boolean }): Promise<void> {
  const result = await request('context', { question: '', ...scopeParams(flags) }, { autostart: true, idleTimeoutMs: 30_000 });
  if (flags.json) return out.out(`${safeJson(result)}\n`);
  const s = result.stats;
  const redactions = s.redactions.map((r) => `${r.count} ${r.kind}`).join(', ') || 'none';
  out.out(`${sanitizeLine(`# ${s.sessions} session(s), ${s.commands} command(s), ${s.chars} characters (~${s.approxTokens} tokens); redacted: ${redactions}`)}\n`);
  // The context is terminal text: sanitized for the terminal it is shown on (what is sent is not changed).
  out.out(`# --- system prompt ---\n${sanitizeText(result.system)}\n# --- context ---\n${sanitizeText(result.user)}\n`);
}

export const contextCommand: CommandSpec<[], ScopeFlags & { json?: boolean }> = {
  name: 'context',
  summary: 'show exactly what ask would send to the LLM, without sending it',
  usage: { options: [...SCOPE_OPTIONS, { flags: '--json', description: 'print {system, user, stats} as JSON' }] },
  run: (io, _args, flags) => run(io, flags),
};
