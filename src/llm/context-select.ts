/**
 * Choosing what fits in the LLM context: the order in which commands compete for the budget, how
 * a long output is clipped to its head and tail, and the greedy fit itself. Pure (the expensive
 * part, rendering an entry, comes in as a callback), so the rules are tested without a store.
 */

/** Characters per token assumed for budgets: ~4 for English text and code with GPT/Claude tokenizers. */
export const CHARS_PER_TOKEN = 4;

/** Approximate tokens of a text: its length in UTF-16 code units / CHARS_PER_TOKEN, rounded up. */
export function approxTokens(text: string | number): number {
  return Math.ceil((typeof text === 'number' ? text : text.length) / CHARS_PER_TOKEN);
}

/** What the priority order needs to know about a candidate entry. */
export interface Ranked {
  /** When it finished: ms since the epoch (session start + the record's endedAtUs). */
  time: number;
  /** Non-zero exit status. */
  failed: boolean;
  /** The newest entry of its session: every session shows at least its latest command. */
  latest: boolean;
  /** The command the question is about (an auto-explanation's failed command): it comes first of all. */
  focus?: boolean;
}

function tier(c: Ranked): number {
  return c.focus ? -1 : c.latest ? 0 : c.failed ? 1 : 2;
}

/**
 * Candidates in the order they get budget: the command the question is about, then the newest
 * entry of each session, then failing commands, then the rest; newest first within each group.
 * Stable; does not modify `items`.
 */
export function byPriority<T extends Ranked>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => tier(a) - tier(b) || b.time - a.time);
}

/** Lines of an output, possibly with a middle part already skipped (see RenderedOutput). */
export interface Lines {
  head: readonly string[];
  tail: readonly string[];
  skippedLines: number;
}

/** The marker that stands for left-out lines; the system prompt explains it. */
export function omittedMarker(lines: number): string {
  return `[… ${lines} line${lines === 1 ? '' : 's'} omitted …]`;
}

function lastN<T>(items: readonly T[], n: number): T[] {
  return n <= 0 ? [] : items.slice(-n);
}

/**
 * The first `headLines` and the last `tailLines` lines of `out`, with a marker saying how many
 * lines are left out in between. A marker never stands for a single line (that line is kept). Lines
 * skipped before rendering were never read, so they always count as left out.
 */
export function clip(out: Lines, headLines: number, tailLines: number): string[] {
  const { head, tail, skippedLines } = out;
  const first = head.slice(0, Math.max(0, headLines));
  let last = lastN(tail, tailLines);
  // Read whole (nothing skipped): the last lines may reach back into `head`.
  if (skippedLines === 0 && last.length < tailLines) {
    last = [...head.slice(Math.max(first.length, head.length - (tailLines - last.length))), ...last];
  }
  const dropped = head.length + skippedLines + tail.length - first.length - last.length;
  if (dropped === 0 || (dropped === 1 && skippedLines === 0)) return [...head, ...tail];
  return [...first, omittedMarker(dropped), ...last];
}

/** Ways to show an entry, longest first; an entry that fits in none is left out. */
export type Variants = (entry: number) => Promise<readonly string[]>;

export interface FitResult {
  /** Index of each chosen candidate (into the order given) → the text chosen for it. */
  chosen: Map<number, string>;
  /** Characters of the chosen texts. */
  chars: number;
}

/**
 * Greedy fit: goes through `count` candidates in priority order and takes the longest variant of
 * each that still fits in `budget` characters; a candidate that fits in none is skipped (a smaller,
 * lower-priority one may still fit). Stops when less than `minChars` is left.
 * @param budget characters available for entries (after the fixed parts)
 * @param separator characters added per chosen entry (e.g. the blank line between entries)
 */
export async function fitBudget(count: number, variants: Variants, budget: number, minChars = 80, separator = 1): Promise<FitResult> {
  const chosen = new Map<number, string>();
  let left = budget;
  for (let i = 0; i < count && left >= minChars; i++) {
    for (const text of await variants(i)) {
      if (text.length + separator <= left) {
        chosen.set(i, text);
        left -= text.length + separator;
        break;
      }
    }
  }
  return { chosen, chars: budget - left };
}
