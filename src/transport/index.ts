/** Public surface of the transport layer: interfaces, the Unix-socket implementation, the auth token. */
export type { Connection, Disposable, Transport, TransportServer } from './transport.js';
export { SocketConnection, type SocketConnectionOptions } from './connection.js';
export { UnixTransport, connectUnix, listenUnix, type UnixOptions } from './unix.js';
export { loadOrCreateToken, readToken, TOKEN_FILE } from './token.js';
export { ensurePrivateDir } from './private-dir.js';
export { ConnectError, DaemonRunningError, InsecurePathError } from './errors.js';
