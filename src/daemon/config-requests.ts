/**
 * `config-get` and `config-set`: the daemon's half of `omnish config`. omnishd keeps the config it
 * read at start in memory; `config-set` changes one key of it, for the keys that can change at run
 * time (src/config/keys.ts says which, and why). The new value is checked by the same validation as
 * the file, on the whole config it would make, so a running omnishd never holds a config that the
 * file could not. Nothing here touches the file: `omnish config set --save` writes it.
 */
import { ConfigError } from '../common/errors.js';
import { validateConfig, type OmnishConfig } from '../config/config.js';
import { errorTarget, getIn, notAtRunTime, setIn, specFor, toDoc } from '../config/keys.js';
import type { ConfigSetResult, UntrustedParams } from '../protocol/index.js';
import type { RequestHandlers } from './control.js';
import type { LlmService } from './llm.js';
import type { Logger } from './log.js';
import type { SessionManager } from './sessions.js';

/** What a change at run time reaches. */
export interface ConfigTargets {
  /** The config omnishd runs with: LlmService, AutoExplainer and the status request hold this object. */
  config: OmnishConfig;
  llm: Pick<LlmService, 'reconfigure'>;
  sessions: Pick<SessionManager, 'setEventsConfig'>;
  log: Pick<Logger, 'info'>;
}

/** Stands for the file name in validation messages, which are about the running config here. */
const RUNNING = 'omnishd';

/** The handlers of the two requests, for the daemon's table (daemon/main.ts). */
export function configHandlers(targets: ConfigTargets): Pick<RequestHandlers, 'config-get' | 'config-set'> {
  return {
    'config-get': () => toDoc(targets.config),
    'config-set': (_state, params) => setAtRunTime(targets, params),
  };
}

/**
 * Sets `params.path` (the key's parts) to `params.value` in the running config.
 * @returns `{ ok: true, value }`, or `{ ok: false, error }` with one line for the user: the client
 *   decides the exit status, which a thrown error would not let it do.
 */
export function setAtRunTime(targets: ConfigTargets, params: UntrustedParams<'config-set'>): ConfigSetResult {
  const path = params.path;
  if (!Array.isArray(path) || path.length === 0 || !path.every((p) => typeof p === 'string')) return { ok: false, error: 'config-set needs a key' };
  const key = path.join('.');
  const spec = specFor(path);
  if (!spec) return { ok: false, error: `unknown key ${key}` };
  if (!spec.settable || !spec.runtime) return { ok: false, error: notAtRunTime(key) };
  const doc = toDoc(targets.config);
  setIn(doc, path, params.value);
  let next: OmnishConfig;
  try {
    next = validateConfig(doc, RUNNING);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { ok: false, error: `cannot set ${key}: ${errorTarget(err, RUNNING).reason}` };
  }
  apply(targets, next, path);
  const value = getIn(toDoc(targets.config), path);
  targets.log.info({ key, value }, 'config changed at run time');
  return { ok: true, value };
}

/**
 * Copies the run-time sections of `next` into the live config, in place: the services hold the
 * section objects themselves (AutoExplainer keeps `llm.autoTrigger`, retention reads `config.store`
 * on each pass), so replacing an object would leave them on the old values.
 */
function apply({ config, llm, sessions }: ConfigTargets, next: OmnishConfig, path: readonly string[]): void {
  const section = path[0];
  if (section === 'llm') {
    Object.assign(config.llm.autoTrigger, next.llm.autoTrigger);
    const { autoTrigger: _kept, ...rest } = next.llm;
    if (rest.default === undefined) delete config.llm.default;
    Object.assign(config.llm, rest);
    // Backends (and their cached keys) are resolved again only when which ones answer changed.
    if (path[1] !== 'auto_trigger' && path[1] !== 'max_context_tokens') llm.reconfigure();
    if (path[2] === 'on_stderr_patterns') {
      // Its list form is what the event detector searches (EventsConfig.stderrPatterns).
      if (next.events.stderrPatterns) config.events.stderrPatterns = next.events.stderrPatterns;
      else delete config.events.stderrPatterns;
      sessions.setEventsConfig(config.events);
    }
  } else if (section === 'events') {
    Object.assign(config.events, next.events);
    sessions.setEventsConfig(config.events);
  } else if (section === 'store') {
    Object.assign(config.store, next.store);
  } else if (section === 'redact') {
    Object.assign(config.redact, next.redact); // LlmService reads it on each request
  }
}
