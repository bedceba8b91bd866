/**
 * Redacting search snippets with their context. A snippet is one line of a command's output; a
 * line of a private key's body, say, holds nothing a rule recognises on its own, only within its
 * block. So a snippet is shown only if (redacted alone) it also appears in the command's whole
 * indexed text redacted: the text the index holds, rebuilt from the store (head and tail, as
 * src/search/from-store.ts builds it), one pass over each session's stream file.
 */
import { redact, type RedactOptions } from '../redact/redact.js';
import { sessionCommands, type SearchHit } from '../search/index.js';
import type { SessionStore, StoredSession } from '../store/index.js';

/** What stands for a snippet that lies inside a secret of its output (or that cannot be checked). */
export const WITHHELD = '[REDACTED:snippet-withheld]';

/**
 * Most characters of indexed text redacted to check one result's snippets (each command's is at
 * most 128 KiB; redaction takes ~40 ms per 100 KB): past it, the remaining snippets are withheld.
 */
const CHECK_CHARS = 4 * 1024 * 1024;

/** The indexed text of the commands `seqs` of `session`, by seq. */
function indexedTexts(session: StoredSession, seqs: ReadonlySet<number>): Map<number, string> {
  return new Map(sessionCommands(session, seqs).map((c) => [c.seq, c.text]));
}

/** The snippet's text without the ellipses makeSnippet adds where it cut a long line. */
const core = (snippet: string): string => snippet.replace(/^…/, '').replace(/…$/, '');

/**
 * The snippets of `hits`, redacted: each redacted alone, and kept only if that also appears in its
 * command's whole indexed text redacted; else (or when its session cannot be read) WITHHELD.
 */
export async function redactSnippets(store: SessionStore, hits: readonly SearchHit[], options: RedactOptions): Promise<string[]> {
  const bySession = new Map<string, Set<number>>();
  for (const h of hits) if (h.snippet !== '') (bySession.get(h.session) ?? bySession.set(h.session, new Set()).get(h.session)!).add(h.seq);
  const texts = new Map<string, string>();
  for (const [id, seqs] of bySession) {
    try {
      for (const [seq, text] of indexedTexts(store.resolve(id), seqs)) texts.set(`${id}:${seq}`, text);
    } catch {
      // Deleted since it was indexed, or unreadable: its snippets are withheld below.
    }
  }
  let budget = CHECK_CHARS;
  const out: string[] = [];
  for (const h of hits) {
    if (h.snippet === '') {
      out.push('');
      continue;
    }
    const text = texts.get(`${h.session}:${h.seq}`);
    if (text === undefined || text.length > budget) {
      out.push(WITHHELD);
      continue;
    }
    budget -= text.length;
    const [alone, whole] = await Promise.all([redact(h.snippet, options), redact(text, options)]);
    out.push(whole.text.includes(core(alone.text)) ? alone.text : WITHHELD);
  }
  return out;
}
