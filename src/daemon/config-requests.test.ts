import { describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../config/config.js';
import { setAtRunTime, type ConfigTargets } from './config-requests.js';

/** A running config with two backends, and fakes of what a change reaches. */
function targets(): ConfigTargets & { reconfigure: ReturnType<typeof vi.fn>; setEvents: ReturnType<typeof vi.fn> } {
  const config = validateConfig({
    llm: {
      default: 'a',
      a: { backend: 'anthropic', model: 'm', api_key_env: 'K' },
      b: { backend: 'openai_compat', model: 'n', api_key_env: 'K' },
    },
  }, 'test');
  const reconfigure = vi.fn();
  const setEvents = vi.fn();
  return { config, llm: { reconfigure }, sessions: { setEventsConfig: setEvents }, log: { info: vi.fn() }, reconfigure, setEvents };
}

describe('config-set', () => {
  it('switches the default backend in place and makes LlmService resolve again', () => {
    const t = targets();
    const llm = t.config.llm;
    expect(setAtRunTime(t, { path: ['llm', 'default'], value: 'b' })).toEqual({ ok: true, value: 'b' });
    expect(t.config.llm).toBe(llm); // the object LlmService holds
    expect(llm.default).toBe('b');
    expect(t.reconfigure).toHaveBeenCalledOnce();
  });

  it('changes auto_trigger in the object AutoExplainer holds, without resolving backends again', () => {
    const t = targets();
    const autoTrigger = t.config.llm.autoTrigger;
    expect(setAtRunTime(t, { path: ['llm', 'auto_trigger', 'cooldown_seconds'], value: 5 }).ok).toBe(true);
    expect(autoTrigger.cooldownSeconds).toBe(5);
    expect(t.config.llm.autoTrigger).toBe(autoTrigger);
    expect(t.reconfigure).not.toHaveBeenCalled();
  });

  it('gives the session manager new event settings', () => {
    const t = targets();
    expect(setAtRunTime(t, { path: ['events', 'output_patterns'], value: ['oops'] }).ok).toBe(true);
    expect(t.setEvents).toHaveBeenCalledWith(expect.objectContaining({ outputPatterns: ['oops'] }));
  });

  it('gives the session manager the list of on_stderr_patterns, and takes it back for a boolean', () => {
    const t = targets();
    const key = ['llm', 'auto_trigger', 'on_stderr_patterns'];
    expect(setAtRunTime(t, { path: key, value: ['^E\\d+', 'panic'] })).toEqual({ ok: true, value: ['^E\\d+', 'panic'] });
    expect(t.setEvents).toHaveBeenLastCalledWith(expect.objectContaining({ stderrPatterns: ['^E\\d+', 'panic'] }));
    expect(t.config.llm.autoTrigger.onStderrPatterns).toBe(true);
    expect(setAtRunTime(t, { path: key, value: ['('] }).error).toMatch(/^cannot set llm\.auto_trigger\.on_stderr_patterns: llm\.auto_trigger\.on_stderr_patterns entry 1 \("\("\) is not a valid/);
    expect(setAtRunTime(t, { path: key, value: false })).toEqual({ ok: true, value: false });
    expect(t.setEvents).toHaveBeenCalledTimes(2);
    expect(t.setEvents.mock.lastCall?.[0]).not.toHaveProperty('stderrPatterns');
    expect(t.config.llm.autoTrigger.onStderrPatterns).toBe(false);
    expect(t.reconfigure).not.toHaveBeenCalled();
  });

  it('changes [redact] in the object LlmService reads on each request; refuses a bad pattern', () => {
    const t = targets();
    const redact = t.config.redact;
    expect(setAtRunTime(t, { path: ['redact', 'allow'], value: ['changeme'] })).toEqual({ ok: true, value: ['changeme'] });
    expect(t.config.redact).toBe(redact);
    expect(redact.allow).toEqual(['changeme']);
    expect(setAtRunTime(t, { path: ['redact', 'patterns'], value: ['('] }).error).toMatch(/^cannot set redact\.patterns: redact\.patterns entry 1 \("\("\) is not a valid regular expression/);
    expect(redact.patterns).toEqual([]);
  });

  it('refuses bad values and keys that need a restart, changing nothing', () => {
    const t = targets();
    const before = structuredClone(t.config);
    expect(setAtRunTime(t, { path: ['llm', 'default'], value: 'c' })).toEqual({ ok: false, error: 'cannot set llm.default: llm.default must name a [llm.<name>] table (have: a, b)' });
    expect(setAtRunTime(t, { path: ['llm', 'fallback'], value: ['a'] }).error).toMatch(/^cannot set llm\.fallback: llm\.fallback must be/);
    expect(setAtRunTime(t, { path: ['daemon', 'autostart'], value: false })).toEqual({ ok: false, error: 'daemon.autostart cannot change at run time; use --save and restart omnish' });
    expect(setAtRunTime(t, { path: ['events', 'rules'], value: [] }).ok).toBe(false);
    expect(setAtRunTime(t, { path: ['llm', 'nope'], value: 1 })).toEqual({ ok: false, error: 'unknown key llm.nope' });
    expect(setAtRunTime(t, { path: 'llm.default', value: 'b' }).ok).toBe(false);
    expect(t.config).toEqual(before);
    expect(t.reconfigure).not.toHaveBeenCalled();
  });
});
