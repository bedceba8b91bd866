/**
 * The control requests, defined once: each method with its params and its result (what travels in
 * Request.params and Response.result). The daemon's handler table is typed by `Requests`, so a
 * handler that returns something else does not compile; the client's `request(method, params)`
 * (src/control/request.ts) is typed by it too, so a command gets the result type without a cast.
 * Neither side declares a result of its own (src/protocol/requests.test.ts checks).
 *
 * Some results are computed below the daemon, by layers that may not import the protocol (the
 * store's RetentionReport, the LLM layer's BuiltContext, the store's session listing): their shape
 * is restated here as the wire contract, and requests.test.ts asserts at type level that the two
 * stay identical.
 *
 * A method added later is announced in Welcome.methods (messages.ts), so that a client can tell an
 * older daemon from a failing one. A field added to a result is optional for readers unless the
 * daemon of every protocol version that has the method sends it.
 */
import type { SessionId } from './messages.js';

// ---------------------------------------------------------------- params

/** Which sessions a context is built from: `session` (with `session`), `latest`, `all`, or `recent` (with `recent`). */
export type ScopeParams = {
  scope: 'session' | 'latest' | 'all' | 'recent';
  /** Scope 'session': the session's id or a unique prefix of it. */
  session?: string;
  /** Scope 'recent': how many of the most recent sessions, 1 or more. */
  recent?: number;
};

/** Params of `ask` (and `context`, whose question is ""). */
export type AskParams = ScopeParams & {
  /** The user's question, as typed. */
  question: string;
  /**
   * `ask -c`: continue the latest thread of the session `session` names (with no `session`, the
   * latest thread of all), sending its earlier turns; the scope builds no context then. An error
   * when there is none.
   */
  continue?: boolean;
  /** `ask --thread ID`: continue this thread (an id or a unique prefix); not with `continue`. */
  thread?: string;
};

/** Params of `threads-rm`: the threads to delete, by id or unique prefix, or all of them. */
export type ThreadsRmParams = {
  ids?: string[];
  /** Delete every thread (then `ids` must be empty). */
  all?: boolean;
};

/** Params of `suggestion`. */
export type SuggestionParams = {
  /** The session's id or a unique prefix of it. */
  session: string;
};

/** Params of `gc`. */
export type GcParams = {
  /** Say what would be freed, change nothing. */
  dryRun?: boolean;
};

/** Params of `config-set`. */
export type ConfigSetParams = {
  /** The key's parts: `['llm', 'auto_trigger', 'enabled']`. */
  path: string[];
  /** The new value, as TOML would give it. */
  value: unknown;
};

/** Params of a method that takes none. */
export type NoParams = Record<string, never>;

// ---------------------------------------------------------------- results

/** A problem writing the store (`status` result, `store.problem` / `store.lastProblem`). */
export type StoreProblem = {
  /** The error as the system put it: "ENOSPC: no space left on device". */
  error: string;
  /** The errno code ("ENOSPC", "EROFS", ...), when there is one. */
  code?: string;
  /** When the first write of the episode failed, ms since the epoch. */
  sinceMs: number;
  /** When it ended (writes go through again), ms since the epoch; absent while it lasts. */
  untilMs?: number;
  /** Output/input bytes that could not be stored (each counted by a gap record where it could be written). */
  lostBytes: number;
  /** Failed writes in the episode. */
  failures: number;
};

/**
 * Why the config file does not load, and where (`status` result `config.problem`). The shape of
 * src/config/file.ts's ConfigFileProblem, plus `sinceMs`.
 */
export type ConfigProblem = {
  /** The config file's path. */
  file: string;
  /** 1-based line of the key (or of a syntax error); absent when the file cannot be read at all. */
  line?: number;
  /** 1-based column, with `line`. */
  col?: number;
  /** The key, dotted (`llm.claude.model`, `events.rules[2].pattern`); absent for a syntax error or an unreadable file. */
  key?: string;
  /** What is wrong, without the file's name. */
  error: string;
  /** Since when the file has not loaded, ms since the epoch (the first reading that failed). */
  sinceMs: number;
};

/** The configuration omnishd runs with (`status` result `config`). */
export type ConfigStatus = {
  /** The file omnishd reads (it need not exist). */
  file: string;
  /** What is in force: the file as read at `loadedAtMs`, or the defaults (no file, or a file that has not loaded since omnishd started). */
  source: 'file' | 'defaults';
  /** When what is in force was read, ms since the epoch. */
  loadedAtMs: number;
  /** While the file does not load: why (omnishd keeps what is in force); null when it loads. */
  problem: ConfigProblem | null;
};

/** One session being recorded now, as `status` lists it. */
export type LiveSessionStatus = {
  id: SessionId;
  /** Terminal device, e.g. "/dev/pts/3" (sent by the client: untrusted text). */
  tty: string;
  /** Path of the wrapped shell. */
  shell: string;
  /** Working directory at the start. */
  cwd: string;
  /** Start, ISO 8601 UTC. */
  startedAt: string;
  /** Process id of the omnish client. */
  clientPid: number;
  /** Shell integration state: the shell's name, or `off: <reason>`. */
  integration: string;
  /** The client's relay: `native`, `js (why)`, or `unknown` (a client older than the field). */
  relay: string;
  /** Input recording: `on`, `off`, or `off (why)`; `off` for a client older than the field (none recorded input). */
  inputRecording: string;
  /** False while the store cannot hold the session (its bytes are counted as lost). */
  stored: boolean;
};

/** Result of `status` (`omnish status --json`). */
export type StatusResult = {
  daemon: {
    pid: number;
    /** The daemon's package version. */
    version: string;
    /** Seconds since the daemon started. */
    uptimeS: number;
    /** Path of the socket it listens on. */
    socket: string;
    /** Open connections, this one included. */
    connections: number;
    /** The default LLM backend as configured now ('auto' when chosen from the environment). */
    defaultBackend: string;
  };
  /**
   * The session store: where, how many sessions, bytes on disk; `problem` while writes fail (disk
   * full, read-only: null when it is writable), `lastProblem` the last such episode that ended.
   * `sessions`/`bytes` are 0 when the directory cannot be read.
   */
  store: { dir: string; sessions: number; bytes: number; problem: StoreProblem | null; lastProblem: StoreProblem | null };
  /** The sessions recorded now. */
  sessions: LiveSessionStatus[];
  /** The configuration in force and whether the file loads; absent from an omnishd older than the field. */
  config?: ConfigStatus;
  /** The search index: what the indexer is doing, and how much it holds; absent from an omnishd older than the field. */
  index?: IndexStatusResult;
};

/** One stored session, as `sessions` lists it (the store's StoredSession with `active` as the daemon knows it). */
export type SessionListing = {
  id: SessionId;
  hostname: string;
  /** Process id of the wrapped shell. */
  pid: number;
  clientPid: number;
  tty: string;
  shell: string;
  cwd: string;
  term: string;
  /** Terminal size at session start, cells. */
  cols: number;
  rows: number;
  /** Wall-clock start and end, ISO 8601 UTC; endedAt null while active. */
  startedAt: string;
  endedAt: string | null;
  exitCode: number | null;
  signal: number | null;
  /** True while the session is being recorded. */
  active: boolean;
  endReason: 'exit' | 'daemon-shutdown' | 'client-lost' | null;
  /** Format of the session directory (docs/store-format.md). */
  formatVersion: 1;
  /** Absolute path of the session directory. */
  dir: string;
};

/** Result of `ask` (what `omnish ask --json` prints); the text also streams as `ask-chunk` Events. */
export type AskResult = {
  answer: string;
  /** Config name of the backend that answered. */
  backend: string;
  /** Model that answered, as the backend reported it. */
  model: string;
  usage: { inputTokens: number; outputTokens: number };
  /**
   * The thread the exchange is stored in (`omnish threads`, `ask --thread ID`); absent when it
   * could not be stored, and from an omnishd older than the field.
   */
  thread?: string;
  /**
   * The command the model proposed with its suggest_command tool: one line, control characters
   * removed by the daemon (still untrusted: sanitize before showing); absent or null for none.
   * Absent from an omnishd older than the field.
   */
  suggestion?: string | null;
  /** Tool calls made while answering; absent from an omnishd older than the field. */
  toolCalls?: number;
};

/** Result of `suggestion`: the last command proposed in the session (by an answer or an auto-explanation). */
export type SuggestionResult = {
  /** One line, control characters removed (untrusted: sanitize before showing); null when there is none. */
  command: string | null;
  /** When it was proposed, ms since the epoch; absent with no command. */
  atMs?: number;
};

/** Result of `threads-rm`. */
export type ThreadsRmResult = {
  /** Ids of the threads deleted. */
  removed: string[];
};

/** Sizes of a built context. */
export type ContextStats = {
  /** Sessions in the context. */
  sessions: number;
  /** Command entries in the context (output tails not counted). */
  commands: number;
  /** Characters of system + user. */
  chars: number;
  /** chars / CHARS_PER_TOKEN, rounded up. */
  approxTokens: number;
  /** Secrets replaced, per kind (`github-token`, `env-secret`, …). */
  redactions: Array<{ kind: string; count: number }>;
};

/** Result of `context`: exactly what `ask` would send (redacted). */
export type ContextResult = {
  system: string;
  user: string;
  stats: ContextStats;
};

/** Result of `gc`: what applying the `[store]` limits freed (or would free, for a dry run). */
export type GcResult = {
  /** Bytes deleted or cut, all sessions together. */
  freedBytes: number;
  /** Sessions deleted, in the order they were chosen: `age` over maxAgeDays, `total` to get under maxTotalMb. */
  evicted: Array<{ id: SessionId; reason: 'age' | 'total'; bytes: number }>;
  /** Sessions whose stream lost its middle; `bytes` is what that freed. */
  trimmed: Array<{ id: SessionId; bytes: number }>;
  /** Size of all session directories before the run, bytes. */
  totalBytesBefore: number;
  /** Size after it (for a dry run: what it would be), bytes. */
  totalBytesAfter: number;
  /** Sessions that could not be deleted or cut, and why; the rest of the run went on. */
  errors: Array<{ id: SessionId; message: string }>;
  /**
   * Threads deleted (or, for a dry run, that would be): `session` their session is gone, `age` not
   * updated for max_age_days. Absent from an omnishd older than the field.
   */
  threads?: Array<{ id: string; reason: 'age' | 'session' }>;
};

/** Why an LLM request failed, for callers that react differently (retry, fall back, tell the user). */
export type LlmErrorReason =
  | 'auth' // 401: the key was refused
  | 'permission' // 403
  | 'not_found' // 404: wrong model or base_url
  | 'rate_limit' // 429
  | 'server' // 5xx (and 408/409, which the providers ask clients to retry)
  | 'bad_request' // any other 4xx
  | 'network' // no connection, or the connection broke
  | 'incomplete' // the stream ended before the provider's end-of-message event
  | 'timeout' // no response (or no further streamed event) within timeout_seconds
  | 'aborted' // the caller cancelled (Ctrl-C)
  | 'key' // api_key_cmd failed or api_key_env is unset
  | 'no_backend'; // nothing configured and nothing found

/** How one backend answered doctor's ping. */
export type DoctorBackendResult = {
  /** Config name (`claude` for `[llm.claude]`; `anthropic`, `openai`, `local` for found ones). */
  name: string;
  /** 'anthropic' | 'openai_compat'. */
  kind: string;
  model: string;
  /** API root the request went to. */
  baseUrl: string;
  /** 'default' answers `ask`; 'fallback' is tried when the default fails. */
  role: 'default' | 'fallback';
  /** True when the backend streamed an answer. */
  ok: boolean;
  /** Wall time of the attempt, ms. */
  ms: number;
  /** One line for the user when it failed (starts with the backend's name, never holds a key). */
  error?: string;
  /** Why it failed, when known. */
  reason?: LlmErrorReason;
};

/** Result of `doctor-llm`. */
export type DoctorLlmResult = {
  /** Where the backends come from: `[llm]` tables, API key variables, a local server, or nowhere. */
  source: 'config' | 'env' | 'local' | 'none';
  /** Why there is no backend (first line of the daemon's explanation) when source is 'none'. */
  problem?: string;
  /** The daemon's pid (the environment that counts for `api_key_env` is this process's). */
  pid: number;
  backends: DoctorBackendResult[];
};

/** Result of `config-get`: the running config as a TOML document (tables as maps). */
export type ConfigTable = Record<string, unknown>;

/** Result of `config-set`: a refusal is a result, not an error, so that the client decides the exit status. */
export type ConfigSetResult = {
  ok: boolean;
  /** One line for the user when not ok. */
  error?: string;
  /** The key's value in omnishd now, when ok. */
  value?: unknown;
};

/** Result of `config-reload`: what reading the file again did. A broken file is a result, not an error. */
export type ConfigReloadResult = {
  /**
   * 'reloaded': omnishd now runs with the file as it is; 'unchanged': it already did (the file's
   * text is what it last read); 'invalid': the file does not load, and omnishd keeps what it had.
   */
  outcome: 'reloaded' | 'unchanged' | 'invalid';
  /** What changed in omnishd, one entry per key or backend table (`llm.default`, `[llm.local] added`); empty unless reloaded. */
  changed: string[];
  /** The keys of `changed` that omnish shells read when they start: running shells keep their value until restarted. */
  newShellsOnly: string[];
  /** The configuration after the reload. */
  config: ConfigStatus;
};

/**
 * Result of `index-rebuild`: the search index after the rebuild (src/daemon/indexer.ts IndexStatus,
 * restated as the wire contract).
 */
export type IndexStatusResult = {
  /** What the daemon's indexer is doing: 'ready' after a rebuild that worked; 'unavailable' without SQLite; 'failed' when the file cannot be used. */
  state: 'starting' | 'ready' | 'catching-up' | 'rebuilding' | 'unavailable' | 'failed';
  /** The index file. */
  path: string;
  /** Commands and sessions in the index. */
  commands: number;
  sessions: number;
  /** Why search does not work (state unavailable or failed). */
  problem?: string;
};

// ---------------------------------------------------------------- the map

/** Every control method: method → { params, result }. */
export interface Requests {
  ping: { params: NoParams; result: { pong: true } };
  status: { params: NoParams; result: StatusResult };
  sessions: { params: NoParams; result: SessionListing[] };
  ask: { params: AskParams; result: AskResult };
  context: { params: AskParams; result: ContextResult };
  gc: { params: GcParams; result: GcResult };
  'doctor-llm': { params: NoParams; result: DoctorLlmResult };
  'config-get': { params: NoParams; result: ConfigTable };
  'config-set': { params: ConfigSetParams; result: ConfigSetResult };
  'config-reload': { params: NoParams; result: ConfigReloadResult };
  'index-rebuild': { params: NoParams; result: IndexStatusResult };
  suggestion: { params: SuggestionParams; result: SuggestionResult };
  'threads-rm': { params: ThreadsRmParams; result: ThreadsRmResult };
}

/** A control method's name, e.g. 'status'. */
export type RequestMethod = keyof Requests;
/** What a client sends as params of `M`. */
export type ParamsOf<M extends RequestMethod> = Requests[M]['params'];
/** What the daemon answers to `M`. */
export type ResultOf<M extends RequestMethod> = Requests[M]['result'];

/**
 * Params of `M` as the daemon receives them: decoded from the wire and not validated yet, so every
 * field is `unknown` until the handler has checked it (the names are still checked by the compiler).
 */
export type UntrustedParams<M extends RequestMethod> = { readonly [K in keyof ParamsOf<M>]?: unknown } & Readonly<Record<string, unknown>>;

/** Every method, in the order docs/protocol.md lists them. Typed so that a method missing here does not compile. */
export const REQUEST_METHODS = ['ping', 'status', 'sessions', 'gc', 'config-get', 'config-set', 'config-reload', 'doctor-llm', 'ask', 'context', 'suggestion', 'index-rebuild', 'threads-rm'] as const satisfies readonly RequestMethod[];

// A method of Requests that REQUEST_METHODS lacks makes this `false` and the line below fail to compile.
const _allListed: Exclude<RequestMethod, (typeof REQUEST_METHODS)[number]> extends never ? true : false = true;
void _allListed;

/** True when `method` names a control method of this build. */
export function isRequestMethod(method: string): method is RequestMethod {
  return (REQUEST_METHODS as readonly string[]).includes(method);
}
