/**
 * What both backends do alike with tools: writing a conversation's tool calls and results as plain
 * text for a request that goes without tools (a backend with `tools = false`, a provider that
 * refused them, a fallback in the middle of a loop), telling a refusal of tools from other 400s,
 * and parsing the arguments a model streamed.
 */
import type { LlmMessage, LlmRequest } from './backend.js';

/** Most characters of one tool result kept when it is written as text. */
const FLAT_RESULT_CHARS = 20_000;

/**
 * `messages` with every tool call and result written into the text of its turn, so that a request
 * without tools still carries what the tools found.
 */
export function flattenToolTurns(messages: readonly LlmMessage[]): LlmMessage[] {
  return messages.map((m) => {
    const parts: string[] = [];
    for (const r of m.toolResults ?? []) parts.push(`[tool result${r.isError ? ' (error)' : ''}]\n${r.content.slice(0, FLAT_RESULT_CHARS)}`);
    if (m.content !== '') parts.push(m.content);
    for (const c of m.toolCalls ?? []) parts.push(`[tool call ${c.name} ${JSON.stringify(c.input)}]`);
    return { role: m.role, content: parts.join('\n\n') || '(no text)' };
  });
}

/** True when the request should go with its tools to a backend that `supportsTools`. */
export function sendsTools(request: LlmRequest, supportsTools: boolean): boolean {
  return supportsTools && (request.tools?.length ?? 0) > 0;
}

/**
 * True when a 400/404/422 from a provider says it does not do tools (Ollama: "… does not support
 * tools"; vLLM without --enable-auto-tool-choice: "\"auto\" tool choice requires …"; llama.cpp,
 * LM Studio and proxies: "tools … not supported"). A request with tools that failed this way is
 * sent again without them.
 */
export function refusesTools(status: number | undefined, message: string): boolean {
  if (status !== 400 && status !== 404 && status !== 422 && status !== 501) return false;
  return /\btool/i.test(message) && /(not|un)\s*(supported|support|available|implemented|allowed)|does not support|requires|unknown|unrecognized|invalid/i.test(message);
}

/** The arguments a model streamed as JSON: an object, else `{}` (the tool then says what is missing). */
export function parseToolInput(json: string): Record<string, unknown> {
  if (json.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(json);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
