import { describe, expect, it } from 'vitest';
import type { ThreadRecord } from '../store/threads.js';
import { renderThread, threadTitle } from './threads.js';

const AT = '2026-12-02T18:20:00.000Z';

function thread(extra: Partial<ThreadRecord>): ThreadRecord {
  return {
    formatVersion: 1, id: '1a2b3c4d', session: 'a1b2c3d4e5f6', kind: 'ask', createdAt: AT, updatedAt: AT, backend: 'claude', model: 'm\x1b[31m',
    turns: [
      { role: 'user', content: 'ctx \x1b]52;c;eA==\x07\n\nQuestion: why \x1b[2J?', question: 'why \x1b[2J?', at: AT },
      { role: 'assistant', content: 'Because\x1b]0;title\x07 \u202Eevil\n', at: AT },
    ],
    ...extra,
  };
}

describe('omnish threads output', () => {
  it('titles: the first question, or the explained command line, sanitized', () => {
    expect(threadTitle(thread({}))).toBe('why ^[[2J?');
    const explained = thread({ kind: 'explain', explained: { seq: 4, command: 'make \x1b]0;x\x07\nsecond line', exitCode: 2 } });
    expect(threadTitle(explained)).toBe('explanation of `make ^[]0;x^G` (exit 2)');
    expect(threadTitle(thread({ kind: 'explain', explained: { seq: 4, command: null, exitCode: null } }))).toBe('explanation of command 4');
  });

  it('show: every question, answer, model and (with --context) what was sent, sanitized', () => {
    const text = renderThread(thread({}), true);
    expect(text).not.toMatch(/[\x1b\x07\u202E]/);
    expect(text).toContain('› why ^[[2J?');
    expect(text).toContain('Because^[]0;title^G <U+202E>evil');
    expect(text).toContain('ctx ^[]52;c;eA==^G');
    expect(text).toContain('claude (m^[[31m)');
    expect(renderThread(thread({}))).not.toContain('ctx ');
  });
});
