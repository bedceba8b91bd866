/**
 * What every tool result (`omnish mcp`, omnishd's tool loop) goes through before it reaches a model: secret redaction
 * (src/redact, the very redactor of the LLM context, with the user's `[redact]` patterns and
 * allow-list) and a size cap with a note saying what was left out. The texts are terminal text,
 * untrusted: each field is redacted on its own (a JSON-escaped key block would hide from the rules).
 */
import { countMarkers, redact, sumRedactions, type Redaction, type RedactOptions } from '../redact/redact.js';

/** A tool's answer: the text sent back, what redaction replaced in it, and whether a cap cut it. */
export interface ToolText {
  text: string;
  redactions: Redaction[];
  truncated: boolean;
}

/**
 * Most characters in one result. MCP clients keep tool results in the model's context (Claude
 * Code warns above ~10K tokens and stops at 25K by default): 40K characters stay under that.
 */
export const RESULT_CHARS = 40_000;

/**
 * A line no secret spans: the fields of a batch are redacted in one pass (secretlint costs ~1 ms
 * a call, a list has hundreds of fields) and split again at it.
 */
const SEPARATOR = '\n\x1e\n';

/**
 * Redacts each of `texts` (null stays null), in one pass when the findings allow it.
 * @throws what redact() throws (secretlint cannot load): unredacted text is never the fallback
 */
export async function redactFields(texts: readonly (string | null)[], options: RedactOptions): Promise<{ texts: (string | null)[]; redactions: Redaction[] }> {
  const present = texts.filter((t): t is string => t !== null && t !== '');
  if (present.length === 0) return { texts: [...texts], redactions: [] };
  let done: string[];
  let redactions: Redaction[];
  const joined = await redact(present.join(SEPARATOR), options);
  const parts = joined.text.split(SEPARATOR);
  if (parts.length === present.length && !present.some((t) => t.includes('\x1e'))) {
    done = parts;
    redactions = joined.redactions;
  } else {
    // A finding swallowed a separator (or a field holds one): each field alone, to keep them apart.
    const each = await Promise.all(present.map((t) => redact(t, options)));
    done = each.map((r) => r.text);
    redactions = sumRedactions(...each.map((r) => r.redactions));
  }
  let at = 0;
  return { texts: texts.map((t) => (t === null || t === '' ? t : done[at++]!)), redactions };
}

/**
 * `items` (already redacted) as JSON text `{ [key]: items, truncated? }`, with as many items as fit in RESULT_CHARS
 * (the first ones: the caller sorts them by what matters most); `truncated` then says how many of
 * how many were left out and what to do about it.
 */
export function cappedJson(key: string, items: readonly unknown[], advice: string, extra: Record<string, unknown> = {}): ToolText {
  let n = items.length;
  const text = (count: number): string => {
    const body: Record<string, unknown> = { ...extra, [key]: items.slice(0, count) };
    if (count < items.length) {
      body.truncated = `only ${count} of ${items.length} ${key} shown: the result is capped at ${RESULT_CHARS} characters; ${advice}`;
    }
    return JSON.stringify(body, null, 1);
  };
  let out = text(n);
  // Halving then stepping: a few serializations, not one per item.
  while (out.length > RESULT_CHARS && n > 0) {
    n = out.length > 2 * RESULT_CHARS ? Math.floor(n / 2) : n - Math.max(1, Math.ceil(n / 20));
    out = text(Math.max(0, n));
  }
  // The markers in what is sent are the redactions it carries (as the LLM context counts them).
  return { text: out, redactions: countMarkers(out), truncated: n < items.length };
}

/** Lines [start, end] (1-based, inclusive) of a text, and the note for what was left out. */
export interface LineWindow {
  text: string;
  /** First and last line shown (0, 0 for none), and how many the text has. */
  first: number;
  last: number;
  total: number;
  truncated: boolean;
}

/**
 * The lines of `text` asked for, within `budget` characters: from `start` (1-based; default: the
 * tail that fits, where a failed command's error usually is) to `end` (default: the last line).
 * @throws RangeError when start or end is below 1 or end is before start (the tool's message)
 */
export function lineWindow(text: string, budget: number, start?: number, end?: number): LineWindow {
  const lines = text === '' ? [] : text.split('\n');
  const total = lines.length;
  if (start !== undefined && start < 1) throw new RangeError(`start_line ${start}: lines are numbered from 1`);
  if (end !== undefined && end < 1) throw new RangeError(`end_line ${end}: lines are numbered from 1`);
  if (start !== undefined && end !== undefined && end < start) throw new RangeError(`end_line ${end} is before start_line ${start}`);
  const lo = Math.min(start ?? 1, total + 1);
  const hi = Math.min(end ?? total, total);
  let first = lo;
  let last = hi;
  let size = 0;
  if (start === undefined) {
    // The tail: walk back from `hi` while it fits.
    first = hi + 1;
    while (first > lo && size + lines[first - 2]!.length + 1 <= budget) size += lines[--first - 1]!.length + 1;
  } else {
    last = lo - 1;
    while (last < hi && size + lines[last]!.length + 1 <= budget) size += lines[last++]!.length + 1;
  }
  if (first > last) {
    // Not even one line fits: its start, cut.
    const at = start === undefined ? hi : lo;
    if (at >= 1 && at <= total) return { text: lines[at - 1]!.slice(0, budget), first: at, last: at, total, truncated: true };
    return { text: '', first: 0, last: 0, total, truncated: false };
  }
  return { text: lines.slice(first - 1, last).join('\n'), first, last, total, truncated: first > lo || last < hi };
}
