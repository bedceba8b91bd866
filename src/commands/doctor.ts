/**
 * `omnish doctor`: checks the installation, the files and the daemon, and says for each problem how
 * to fix it. The local checks are in doctor-checks.ts; the daemon and the LLM backends are checked
 * here through control requests (`status`, `doctor-llm`), because the client never loads the LLM
 * layer and only omnishd knows its own environment. All checks run at once, each with a time limit,
 * so doctor answers within about 10 s whatever hangs.
 *
 * Exit status: 0 when nothing failed (warnings allowed), 1 when some check failed.
 */
import { safeJson, sanitizeLine } from '../common/sanitize.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from '../control/request.js';
import { configPath, dataDir, runtimeDir, socketPath, stateDir } from '../common/paths.js';
import { VERSION } from '../common/version.js';
import { UnsupportedRequestError } from '../common/errors.js';
import type { DoctorLlmResult, StatusResult } from '../protocol/index.js';
import { ConnectError, TOKEN_FILE } from '../transport/index.js';
import {
  checkConfig, checkNode, checkNodePty,
  checkRelay, checkPrivateFile, checkShellIntegration, checkSocketDir, checkStty, checkWritableDir,
  compareVersions, type CheckResult,
} from './doctor-checks.js';
import type { CommandSpec } from './registry.js';
import { keptText, problemLine } from './config-problem.js';
import { clock, problemFix, problemText, recoveredText } from './store-problem.js';

export type { CheckResult } from './doctor-checks.js';

/** Limit on a check of this machine (ms): node-pty's spawn is the only one that waits. */
const LOCAL_TIMEOUT_MS = 4000;
/** Limit on the daemon's `status` answer (ms). */
const DAEMON_TIMEOUT_MS = 3000;
/** Limit on the LLM check, the daemon check included: resolving (≤ 1.5 s) + pinging (≤ 5 s) + margin. */
const LLM_TIMEOUT_MS = 9000;

const LLM_DOCS = fileURLToPath(new URL('../../docs/llm.md', import.meta.url));

/** The part of the daemon's `status` answer doctor reads; `store` and `config` are absent from an omnishd older than this omnish. */
type DaemonStatus = { daemon: Pick<StatusResult['daemon'], 'pid' | 'version' | 'uptimeS'>; store?: StatusResult['store']; config?: StatusResult['config'] };

/** Runs a check with a time limit; a check that throws or takes too long is a failure, not a crash. */
export async function bounded(name: string, ms: number, run: () => CheckResult | CheckResult[] | Promise<CheckResult | CheckResult[]>): Promise<CheckResult[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<CheckResult[]>((resolve) => {
    timer = setTimeout(() => resolve([{ name, status: 'fail', detail: `no answer within ${ms / 1000} s`, fix: 'run omnish doctor again; if it persists, see the log in the state directory' }]), ms);
  });
  try {
    const result = await Promise.race([Promise.resolve().then(run), late]);
    return Array.isArray(result) ? result : [result];
  } catch (err) {
    return [{ name, status: 'fail', detail: `check failed: ${(err as Error).message}`, fix: 'report this as a bug in omnish' }];
  } finally {
    clearTimeout(timer);
  }
}

/** True when a request failed because nothing listens on the socket (no daemon, or a dead one's socket). */
function notRunning(err: unknown): boolean {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof ConnectError && (cause.code === 'ENOENT' || cause.code === 'ECONNREFUSED');
}

/** Judges the daemon's `status` answer (or the error instead of it). */
export function daemonResult(answer: DaemonStatus | Error, ourVersion: string, autostart: boolean): CheckResult {
  const name = 'daemon';
  if (answer instanceof Error) {
    if (notRunning(answer)) {
      return autostart
        ? { name, status: 'warn', detail: `omnishd is not running (${socketPath()})`, fix: "it starts with the next omnish shell, or run 'omnish daemon start'" }
        : { name, status: 'warn', detail: 'omnishd is not running and [daemon] autostart = false', fix: "start it: 'systemctl --user start omnishd' (or 'omnish daemon start')" };
    }
    return { name, status: 'fail', detail: answer.message, fix: "restart it: 'omnish daemon restart'" };
  }
  const { pid, version } = answer.daemon;
  if (compareVersions(version, ourVersion) !== 0) {
    return { name, status: 'fail', detail: `omnishd ${version} is running (pid ${pid}), but this omnish is ${ourVersion}`, fix: "run 'omnish daemon restart' to run the installed version" };
  }
  return { name, status: 'ok', detail: `omnishd ${version} running (pid ${pid})` };
}

/**
 * Judges whether omnishd can write the store, from its `status` answer: a failure while writes
 * fail (what is lost becomes gap records), nothing when the daemon did not answer (the daemon
 * check says so), a note about the last failure once it has ended.
 */
export function storeResult(answer: DaemonStatus | Error): CheckResult[] {
  const store = answer instanceof Error ? undefined : answer.store;
  if (!store) return [];
  const name = 'store';
  if (store.problem) return [{ name, status: 'fail', detail: problemText(store.problem), fix: problemFix(store.problem, store.dir) }];
  const sessions = `${store.sessions} session${store.sessions === 1 ? '' : 's'} in ${store.dir}`;
  if (store.lastProblem) return [{ name, status: 'ok', detail: `${sessions}; ${recoveredText(store.lastProblem)}` }];
  return [{ name, status: 'ok', detail: `${sessions}; no write has failed` }];
}

/**
 * Judges the configuration omnishd runs with, from its `status` answer, beside the local `config`
 * check (which says whether the file loads here): which file omnishd reads, and whether it has
 * taken the file as it is. A broken file is a warning here: the local check already fails for it,
 * and omnishd goes on with what it had.
 * @param file the config path of this omnish
 * @param fileLoads whether the local check loaded that file
 */
export function daemonConfigResult(answer: DaemonStatus | Error, file: string, fileLoads: boolean, now = Date.now()): CheckResult[] {
  const c = answer instanceof Error ? undefined : answer.config;
  if (!c) return [];
  const name = 'daemon config';
  if (c.file !== file) {
    return [{
      name, status: 'warn', detail: `omnishd reads ${c.file}, this omnish reads ${file}`,
      fix: "restart omnishd from a shell with the same OMNISH_CONFIG / XDG_CONFIG_HOME: 'omnish daemon restart'",
    }];
  }
  if (c.problem && fileLoads) {
    // Fixed here, but omnishd has not seen it yet (or the watch cannot see this file system).
    return [{ name, status: 'warn', detail: `omnishd has not read the corrected file yet: it still reports ${problemLine(c.problem)}`, fix: "run 'omnish config reload'" }];
  }
  if (c.problem) {
    return [{
      name, status: 'warn', detail: `${keptText(c, now)}: the file does not load since ${clock(c.problem.sinceMs, now)} (${problemLine(c.problem)})`,
      fix: "correct the file (see the config check); omnishd reads it again when it is saved, or run 'omnish config reload'",
    }];
  }
  return [{ name, status: 'ok', detail: c.source === 'file' ? `omnishd runs with ${c.file} as read at ${clock(c.loadedAtMs, now)}` : 'omnishd runs on the defaults (no file)' }];
}

/** Where the user fixes a backend's key. */
function keyPlace(report: DoctorLlmResult, backend: string): string {
  if (report.source === 'env') return `${backend === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY'} in omnishd's environment`;
  return `api_key_cmd / api_key_env of [llm.${backend}] in ${configPath()}`;
}

/** Turns the daemon's `doctor-llm` answer into one line per backend. */
export function llmResults(report: DoctorLlmResult): CheckResult[] {
  if (report.source === 'none') {
    return [{
      name: 'llm',
      status: 'warn',
      detail: `${report.problem ?? 'no LLM backend is configured'}; ask and auto-explanations are off`,
      fix: `add an [llm.NAME] table (backend, model, api_key_cmd or api_key_env) to ${configPath()}, or set ANTHROPIC_API_KEY or OPENAI_API_KEY ` +
        `and run 'omnish daemon restart' from that shell, or run Ollama on 127.0.0.1:11434 (${LLM_DOCS})`,
    }];
  }
  return report.backends.map((b): CheckResult => {
    const name = `llm ${b.name}`;
    const what = `${b.kind} ${b.model} at ${b.baseUrl}${b.role === 'fallback' ? ' (fallback)' : ''}`;
    if (b.ok) return { name, status: 'ok', detail: `${what}: answered in ${b.ms} ms` };
    const detail = b.error ?? `${b.name}: failed`;
    const settings = report.source === 'config' ? `model and base_url of [llm.${b.name}] in ${configPath()}` : 'the model';
    switch (b.reason) {
      case 'auth':
      case 'key':
        return { name, status: 'fail', detail, fix: `check ${keyPlace(report, b.name)}; omnishd reads variables at start: 'omnish daemon restart' after changing them` };
      case 'not_found':
        return { name, status: 'fail', detail, fix: `check ${settings}` };
      case 'permission':
        return { name, status: 'fail', detail, fix: `the key is not allowed to use ${b.model}: check the account's access, or ${settings}` };
      case 'network':
      case 'timeout':
        return { name, status: 'fail', detail, fix: `check that ${b.baseUrl} is up and reachable from this machine (proxy, firewall), and ${settings}` };
      case 'rate_limit':
      case 'server':
      case 'incomplete':
      case 'bad_request':
        // It answered, so URL and key work; a 1-token ping is an unusual request that a busy or
        // picky server may refuse while real questions go through.
        return { name, status: 'warn', detail: `${detail} (to doctor's 1-token request)`, fix: `if 'omnish ask' fails too, check ${settings}` };
      default:
        return { name, status: 'fail', detail, fix: `check ${settings} (${LLM_DOCS})` };
    }
  });
}

/** Asks the daemon to ping its backends, once its `status` has shown it is there. */
export async function llmCheck(daemon: Promise<DaemonStatus | Error>): Promise<CheckResult[]> {
  if ((await daemon) instanceof Error) {
    return [{ name: 'llm', status: 'warn', detail: 'not checked: omnishd does not answer', fix: "start it ('omnish daemon start') and run omnish doctor again" }];
  }
  try {
    return llmResults(await request('doctor-llm', {}, { idleTimeoutMs: LLM_TIMEOUT_MS }));
  } catch (err) {
    // Its Welcome lists the methods it answers, and doctor-llm is not among them.
    if (err instanceof UnsupportedRequestError) {
      return [{ name: 'llm', status: 'warn', detail: 'not checked: the running omnishd is older than this omnish', fix: "run 'omnish daemon restart'" }];
    }
    return [{ name: 'llm', status: 'fail', detail: (err as Error).message, fix: "run 'omnish daemon restart' and try again" }];
  }
}

/** Runs every check at once and returns the results in a fixed order. */
export async function runChecks(): Promise<CheckResult[]> {
  const { result: configResult, config } = checkConfig(configPath());
  const autostart = config?.daemon.autostart ?? true;
  const daemon: Promise<DaemonStatus | Error> = request('status', {}, { idleTimeoutMs: DAEMON_TIMEOUT_MS }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  const runtime = runtimeDir();
  const groups = await Promise.all([
    bounded('node', LOCAL_TIMEOUT_MS, () => checkNode()),
    bounded('node-pty', LOCAL_TIMEOUT_MS, checkNodePty),
    bounded('relay', LOCAL_TIMEOUT_MS, () => checkRelay()),
    [configResult],
    bounded('stty', LOCAL_TIMEOUT_MS, () => checkStty()),
    bounded('shell integration', LOCAL_TIMEOUT_MS, () => checkShellIntegration(config)),
    bounded('socket directory', LOCAL_TIMEOUT_MS, () => checkSocketDir(runtime)),
    bounded('socket', LOCAL_TIMEOUT_MS, () => checkPrivateFile('socket', socketPath(), 'socket', 'omnish daemon restart')),
    bounded('token', LOCAL_TIMEOUT_MS, () => checkPrivateFile('token', join(runtime, TOKEN_FILE), 'file', 'omnish daemon restart')),
    bounded('data directory', LOCAL_TIMEOUT_MS, () => checkWritableDir('data directory', dataDir(), 'OMNISH_DATA_DIR or XDG_DATA_HOME')),
    bounded('state directory', LOCAL_TIMEOUT_MS, () => checkWritableDir('state directory', stateDir(), 'OMNISH_DATA_DIR or XDG_STATE_HOME')),
    bounded('daemon', DAEMON_TIMEOUT_MS + 500, async () => daemonResult(await daemon, VERSION, autostart)),
    bounded('store', DAEMON_TIMEOUT_MS + 500, async () => storeResult(await daemon)),
    bounded('daemon config', DAEMON_TIMEOUT_MS + 500, async () => daemonConfigResult(await daemon, configPath(), config !== undefined)),
    bounded('llm', LLM_TIMEOUT_MS + 500, () => llmCheck(daemon)),
  ]);
  return groups.flat();
}

/** `✓ name  detail` / `✗ name  problem — fix: …` / `! name  warning — fix: …`, names aligned, and a summary. */
export function renderResults(results: CheckResult[]): string {
  const width = Math.max(0, ...results.map((r) => r.name.length));
  const mark = { ok: '✓', warn: '!', fail: '✗' };
  // A detail can hold an LLM server's error text or the daemon's answer: sanitized.
  const lines = results.map((r) => sanitizeLine(`${mark[r.status]} ${r.name.padEnd(width)}  ${r.detail}${r.fix ? ` — fix: ${r.fix}` : ''}`));
  const fails = results.filter((r) => r.status === 'fail').length;
  const warns = results.filter((r) => r.status === 'warn').length;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push('', fails === 0 && warns === 0 ? 'all checks passed' : `${plural(fails, 'problem')}, ${plural(warns, 'warning')}`);
  return `${lines.join('\n')}\n`;
}

export const doctorCommand: CommandSpec<[], { json?: boolean }> = {
  name: 'doctor',
  summary: 'check the installation, config, permissions, daemon and LLM backends, with fixes',
  usage: {
    options: [{ flags: '--json', description: 'print a JSON array of {name, status: "ok"|"warn"|"fail", detail, fix?}' }],
    after: '\nExit status: 0 when no check failed (warnings allowed), 1 otherwise.\n',
  },
  async run(io, _args, opts) {
    const results = await runChecks();
    io.out(opts.json ? `${safeJson(results)}\n` : renderResults(results));
    io.setExitCode(results.some((r) => r.status === 'fail') ? 1 : 0);
  },
};
