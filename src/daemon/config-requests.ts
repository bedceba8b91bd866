/**
 * `config-get`, `config-set` and `config-reload`: the daemon's half of `omnish config`. omnishd
 * keeps its config in memory (read at start, and again when the file changes: config-reload.ts);
 * `config-set` changes one key of it, for the keys that can change at run
 * time (src/config/keys.ts says which, and why). The new value is checked by the same validation as
 * the file, on the whole config it would make, so a running omnishd never holds a config that the
 * file could not. Nothing here touches the file: `omnish config set --save` writes it.
 */
import { isDeepStrictEqual } from 'node:util';
import { ConfigError, UsageError } from '../common/errors.js';
import { validateConfig, type OmnishConfig } from '../config/config.js';
import { problemMessage } from '../config/file.js';
import { errorTarget, getIn, notAtRunTime, setIn, specFor, toDoc } from '../config/keys.js';
import type { ConfigSetResult, UntrustedParams } from '../protocol/index.js';
import type { ConfigReloader } from './config-reload.js';
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

/** Reading the file again (config-reload.ts), when omnishd watches it. */
export type FileReloader = Pick<ConfigReloader, 'reload' | 'status'>;

/**
 * The handlers of the config requests, for the daemon's table (daemon/main.ts). With a `reloader`,
 * `config-set` first reads the file again if it changed, so that the value is checked against the
 * file as it is now (the tables a default may name), and `config-reload` reads it on request.
 */
export function configHandlers(targets: ConfigTargets, reloader?: FileReloader): Pick<RequestHandlers, 'config-get' | 'config-set' | 'config-reload'> {
  return {
    'config-get': () => toDoc(targets.config),
    'config-set': (_state, params) => {
      reloader?.reload('config-set');
      const result = setAtRunTime(targets, params);
      const problem = reloader?.status().problem;
      if (result.ok || !problem) return result;
      // What the user may be looking for is in a part of the file omnishd cannot read.
      return { ...result, error: `${result.error}; note: ${problemMessage(problem)}, so omnishd still runs with the configuration it had` };
    },
    'config-reload': () => {
      if (!reloader) throw new UsageError('this omnishd does not read its config file again');
      return reloader.reload('request');
    },
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
  applyConfig(targets, next);
  const value = getIn(toDoc(targets.config), path);
  targets.log.info({ key, value }, 'config changed at run time');
  return { ok: true, value };
}

/** Makes `target` hold exactly the own properties of `source` (an optional key `source` lacks is removed). */
function replaceIn<T extends object>(target: T, source: T): void {
  for (const key of Object.keys(target)) if (!Object.hasOwn(source, key)) delete (target as Record<string, unknown>)[key];
  Object.assign(target, source);
}

/**
 * Makes the live config equal to `next`, in place: the services hold the section objects
 * themselves (AutoExplainer keeps `llm.autoTrigger`, retention reads `config.store` on each pass,
 * LlmService `config.llm` and `config.redact` on each request), so replacing an object would leave
 * them on the old values. The backends are resolved again only when which ones answer changed
 * (default, fallback, a backend table), and the event detector is rebuilt only when `[events]`
 * (or the list form of on_stderr_patterns, which it searches) changed. A request under way keeps
 * what it started with.
 */
export function applyConfig({ config, llm, sessions }: Pick<ConfigTargets, 'config' | 'llm' | 'sessions'>, next: OmnishConfig): void {
  const answering = (c: OmnishConfig) => ({ default: c.llm.default, fallback: c.llm.fallback, backends: c.llm.backends });
  const backendsChanged = !isDeepStrictEqual(answering(config), answering(next));
  const eventsChanged = !isDeepStrictEqual(config.events, next.events);
  const { autoTrigger, ...llmRest } = next.llm;
  replaceIn(config.shell, next.shell);
  replaceIn(config.daemon, next.daemon);
  replaceIn(config.store, next.store);
  replaceIn(config.redact, next.redact);
  replaceIn(config.llm.autoTrigger, autoTrigger);
  replaceIn(config.llm, { ...llmRest, autoTrigger: config.llm.autoTrigger });
  replaceIn(config.events, next.events);
  if (backendsChanged) llm.reconfigure();
  if (eventsChanged) sessions.setEventsConfig(config.events);
}
