/**
 * fish integration against what real users' configs do: prompts defined in config or at the
 * prompt, vi mode's mode prompt, multi-line prompts, re-sourcing config.fish, and fish 4's own
 * OSC 133 marks (simulated here with a config that prints them the way fish 4 does).
 * Real fish in a real pty, config in a private HOME (XDG_CONFIG_HOME inside it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { kinds, lastPromptText, start, stopAll } from './testing.js';

afterEach(stopAll);

const CONFIG = '.config/fish/config.fish';
const QUIET = 'set -g fish_greeting\n';

describe('fish: prompts', () => {
  it('fish 4-style marks of its own (no nonce) leave ours complete, each once', async () => {
    const rc = `${QUIET}function fish_prompt; printf '\\e]133;A;click_events=1\\a[%s] > ' $status; end
function own_c --on-event fish_preexec; printf '\\e]133;C\\a'; end
function own_d --on-event fish_postexec; printf '\\e]133;D;%s\\a' $status; end
`;
    const s = start('fish', { rc });
    await s.prompt();
    const since = s.length;
    expect(kinds(await s.run('false'))).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
    expect(s.placed(since).find((p) => p.mark.kind === 'D')?.mark).toEqual({ kind: 'D', exit: '1' });
    expect(kinds(s.foreignMarks(since).map((p) => p.mark))).toEqual(['C', 'D', 'A']);
  });

  it('wraps a prompt defined at the prompt, from its first showing', async () => {
    const s = start('fish');
    await s.prompt();
    await s.run("function fish_prompt; printf 'NEW> '; end");
    expect(lastPromptText(s)).toBe('NEW> ');
    expect(kinds(await s.run('false'))).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
    expect(lastPromptText(s)).toBe('NEW> ');
  });

  it('puts A before the vi mode prompt and B after the prompt', async () => {
    const s = start('fish', { rc: `${QUIET}fish_vi_key_bindings\nfunction fish_prompt; printf 'VI> '; end\n` });
    await s.prompt();
    expect(lastPromptText(s)).toMatch(/\[I\][\s\S]*VI> $/);
    expect(await s.run('false')).toContainEqual({ kind: 'D', exit: '1' });
  });

  it('puts B at the end of a multi-line prompt', async () => {
    const s = start('fish', { rc: `${QUIET}function fish_prompt; printf 'line one\\nline two> '; end\n` });
    await s.prompt();
    expect(lastPromptText(s)).toMatch(/line one[\s\S]*line two> $/);
  });

  it('re-sourcing config.fish does not duplicate marks', async () => {
    const s = start('fish');
    await s.prompt();
    await s.run(`source ~/${CONFIG}`);
    await s.run(`source ~/${CONFIG}`);
    expect(kinds(await s.run('false'))).toEqual(['E', 'C', 'D', 'P', '7', 'A', 'B']);
  });
});

describe('fish: startup', () => {
  it('a login shell (-l) is a login shell and reads config.fish', async () => {
    const s = start('fish', { rc: `${QUIET}echo CONFIG-READ\nfunction fish_prompt; printf '> '; end\n`, args: ['-l'] });
    await s.prompt();
    expect(s.text()).toContain('CONFIG-READ');
    const since = s.length;
    await s.run('status is-login; and echo IS-LOGIN');
    const c = s.placed(since).find((p) => p.mark.kind === 'C')?.at ?? 0;
    expect(s.text(c)).toMatch(/^[^\n]*IS-LOGIN\r\n/);
  });
});
