/**
 * Control requests to omnishd (`omnish status`, ...): connect, Hello with role 'control', one
 * Request, its Response.
 */
import { join } from 'node:path';
import { DaemonUnavailableError } from '../common/errors.js';
import { runtimeDir, socketPath } from '../common/paths.js';
import { VERSION } from '../common/version.js';
import { checkWelcome, PROTOCOL_VERSION, type Message } from '../protocol/index.js';
import { readToken, TOKEN_FILE, UnixTransport, type Connection } from '../transport/index.js';

/** How long a control request may take in all (ms). */
const REQUEST_TIMEOUT_MS = 5000;

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

/**
 * Sends one request to the running daemon.
 * @returns the response's result
 * @throws DaemonUnavailableError when no daemon answers (the message says how to start one), or
 *   when the daemon refuses or reports an error
 */
export async function request<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
  let conn: Connection;
  try {
    conn = await new UnixTransport(socketPath(), { connectTimeoutMs: 1000 }).connect();
  } catch (err) {
    throw new DaemonUnavailableError(`omnishd is not running (no answer on ${socketPath()}); start it with 'omnishd'`, { cause: err });
  }
  try {
    const token = readToken(join(runtimeDir(), TOKEN_FILE)) ?? '';
    conn.send({ type: 'Hello', protocolVersion: PROTOCOL_VERSION, token, role: 'control', clientVersion: VERSION, pid: process.pid });
    const welcome = await nextMessage(conn, REQUEST_TIMEOUT_MS);
    if (welcome.type === 'Refused') throw new DaemonUnavailableError(`omnishd refused the connection: ${welcome.message}`);
    const problem = welcome.type === 'Welcome' ? checkWelcome(welcome) : `unexpected ${welcome.type}`;
    if (problem) throw new DaemonUnavailableError(problem);
    conn.send({ type: 'Request', id: 1, method, params });
    const response = await nextMessage(conn, REQUEST_TIMEOUT_MS);
    if (response.type !== 'Response') throw new DaemonUnavailableError(`unexpected ${response.type} from omnishd`);
    if (!response.ok) throw new DaemonUnavailableError(`omnishd: ${response.error ?? 'request failed'}`);
    return response.result as T;
  } finally {
    conn.destroy();
  }
}
