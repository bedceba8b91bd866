/**
 * Control requests to omnishd (`omnish status`, ...): connect, Hello with role 'control', one
 * Request, its Response. Typed by the protocol's `Requests` map: `request('status')` resolves to a
 * StatusResult, and the params of each method are checked by the compiler.
 */
import { join } from 'node:path';
import { DaemonUnavailableError, OmnishError, UnsupportedRequestError } from '../common/errors.js';
import { runtimeDir, socketPath } from '../common/paths.js';
import { VERSION } from '../common/version.js';
import {
  checkWelcome, daemonOffers, PROTOCOL_VERSION, readEvent,
  type DaemonEvent, type Message, type ParamsOf, type RequestMethod, type ResultOf,
} from '../protocol/index.js';
import { readToken, TOKEN_FILE, UnixTransport, type Connection } from '../transport/index.js';

/** How long a control request may take in all (ms). */
const REQUEST_TIMEOUT_MS = 5000;

/** Options of a request. */
export interface RequestOptions {
  /**
   * Receives the Events the daemon streams before its Response (e.g. answer text), of the kinds
   * this build knows and with their data checked; others are skipped.
   */
  onEvent?: (event: DaemonEvent) => void;
  /** Longest wait for the next message, ms (default 5000); every Event restarts it. */
  idleTimeoutMs?: number;
  /** Aborting closes the connection; the daemon stops the work (e.g. an LLM request). */
  signal?: AbortSignal;
  /** Start the daemon if none answers (default false). */
  autostart?: boolean;
}

function nextMessage(conn: Connection, timeoutMs: number): Promise<Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new DaemonUnavailableError('omnishd did not answer in time')), timeoutMs);
    const finish = (result: Message | Error): void => {
      clearTimeout(timer);
      sub.dispose();
      closeSub.dispose();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const sub = conn.onMessage((msg) => finish(msg));
    const closeSub = conn.onClose(() => finish(new DaemonUnavailableError('omnishd closed the connection')));
  });
}

/** The params and options of `request(method, ...)`: params may be left out when the method takes none. */
export type RequestArgs<M extends RequestMethod> = Record<string, never> extends ParamsOf<M>
  ? [params?: ParamsOf<M>, options?: RequestOptions]
  : [params: ParamsOf<M>, options?: RequestOptions];

/**
 * Sends one request to the running daemon.
 * @returns the response's result, as the daemon sent it (not validated: the daemon speaks our
 *   protocol version, checked in the handshake)
 * @throws DaemonUnavailableError when no daemon answers (the message says how to start one), or
 *   when the daemon refuses; UnsupportedRequestError when its Welcome says it does not answer
 *   `method` (an older omnishd); OmnishError with the daemon's text when it reports an error
 */
export async function request<M extends RequestMethod>(method: M, ...[params, options = {}]: RequestArgs<M>): Promise<ResultOf<M>> {
  const conn = await connect(options.autostart === true);
  const abort = (): void => conn.destroy();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    const token = readToken(join(runtimeDir(), TOKEN_FILE)) ?? '';
    conn.send({ type: 'Hello', protocolVersion: PROTOCOL_VERSION, token, role: 'control', clientVersion: VERSION, pid: process.pid });
    const welcome = await nextMessage(conn, REQUEST_TIMEOUT_MS);
    if (welcome.type === 'Refused') throw new DaemonUnavailableError(`omnishd refused the connection: ${welcome.message}`);
    const problem = welcome.type === 'Welcome' ? checkWelcome(welcome) : `unexpected ${welcome.type}`;
    if (problem) throw new DaemonUnavailableError(problem);
    if (welcome.type === 'Welcome' && daemonOffers(welcome, method) === false) throw new UnsupportedRequestError(method, welcome.daemonVersion);
    conn.send({ type: 'Request', id: 1, method, params: params ?? {} });
    for (;;) {
      const msg = await nextMessage(conn, options.idleTimeoutMs ?? REQUEST_TIMEOUT_MS);
      if (msg.type === 'Event') {
        const event = readEvent(msg);
        if (event) options.onEvent?.(event);
        continue;
      }
      if (msg.type !== 'Response') throw new DaemonUnavailableError(`unexpected ${msg.type} from omnishd`);
      // The daemon's error text is written for the user already (e.g. how to configure a backend).
      if (!msg.ok) throw new OmnishError(msg.error ?? 'request failed');
      return msg.result as ResultOf<M>;
    }
  } finally {
    options.signal?.removeEventListener('abort', abort);
    conn.destroy();
  }
}

/** Connects to the daemon, starting it first when asked to and none answers. */
async function connect(autostart: boolean): Promise<Connection> {
  const transport = new UnixTransport(socketPath(), { connectTimeoutMs: 1000 });
  try {
    return await transport.connect();
  } catch (err) {
    if (!autostart) {
      throw new DaemonUnavailableError(`omnishd is not running (no answer on ${socketPath()}); start it with 'omnishd'`, { cause: err });
    }
  }
  const { startDetached } = await import('./autostart.js');
  await startDetached();
  return transport.connect();
}
