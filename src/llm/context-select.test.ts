import { describe, expect, test } from 'vitest';
import { approxTokens, byPriority, clip, fitBudget } from './context-select.js';

const n = (count: number, from = 1) => Array.from({ length: count }, (_, i) => `l${i + from}`);

describe('clip', () => {
  test('keeps head and tail of an output read whole, with the count of lines left out', () => {
    expect(clip({ head: n(10), tail: [], skippedLines: 0 }, 2, 3)).toEqual(['l1', 'l2', '[… 5 lines omitted …]', 'l8', 'l9', 'l10']);
  });

  test('keeps everything when at most one line would be left out', () => {
    expect(clip({ head: n(6), tail: [], skippedLines: 0 }, 2, 3)).toEqual(n(6));
    expect(clip({ head: n(5), tail: [], skippedLines: 0 }, 2, 3)).toEqual(n(5));
  });

  test('head 0 or tail 0 keep one end only', () => {
    expect(clip({ head: n(10), tail: [], skippedLines: 0 }, 0, 2)).toEqual(['[… 8 lines omitted …]', 'l9', 'l10']);
    expect(clip({ head: n(10), tail: [], skippedLines: 0 }, 2, 0)).toEqual(['l1', 'l2', '[… 8 lines omitted …]']);
  });

  test('an output with an unread middle always shows a marker counting it', () => {
    expect(clip({ head: n(3), tail: n(2, 100), skippedLines: 95 }, 5, 5)).toEqual(['l1', 'l2', 'l3', '[… 95 lines omitted …]', 'l100', 'l101']);
    expect(clip({ head: n(4), tail: n(4, 100), skippedLines: 1 }, 2, 2)).toEqual(['l1', 'l2', '[… 5 lines omitted …]', 'l102', 'l103']);
  });
});

describe('byPriority', () => {
  test('latest of each session, then failing, then the rest; newest first in each', () => {
    const items = [
      { id: 'old-ok', time: 1, failed: false, latest: false },
      { id: 'old-fail', time: 2, failed: true, latest: false },
      { id: 'new-ok', time: 5, failed: false, latest: false },
      { id: 'latest-a', time: 6, failed: false, latest: true },
      { id: 'new-fail', time: 4, failed: true, latest: false },
      { id: 'latest-b', time: 3, failed: false, latest: true },
    ];
    expect(byPriority(items).map((i) => i.id)).toEqual(['latest-a', 'latest-b', 'new-fail', 'old-fail', 'new-ok', 'old-ok']);
  });
});

describe('fitBudget', () => {
  test('takes the longest variant that fits, skips what fits in none, stops when the budget is spent', async () => {
    const variants = [['x'.repeat(50), 'x'.repeat(20)], ['y'.repeat(90)], ['z'.repeat(30), 'z'.repeat(10)], ['w'.repeat(5)]];
    const { chosen, chars } = await fitBudget(variants.length, async (i) => variants[i] ?? [], 85, 10, 1);
    expect([...chosen.entries()]).toEqual([[0, 'x'.repeat(50)], [2, 'z'.repeat(30)]]);
    expect(chars).toBe(82);
  });

  test('approxTokens is characters / 4, rounded up', () => {
    expect(approxTokens('abcde')).toBe(2);
    expect(approxTokens(8)).toBe(2);
  });
});
