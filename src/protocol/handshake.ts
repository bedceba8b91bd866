/**
 * Handshake checks: what the daemon answers to a Hello, what a client makes of a Welcome.
 * Both return a readable refusal for the user, or null when all is well.
 */
import { PROTOCOL_VERSION, type Hello, type Welcome } from './messages.js';
import { versionMismatchMessage } from './schema.js';

/**
 * Compares two strings in time that depends only on their lengths, so the auth token cannot be
 * guessed byte by byte from response times.
 */
function sameToken(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i % (b.length || 1));
  return diff === 0;
}

/**
 * Daemon side: decides whether to accept a client's Hello. The version is checked first so that
 * the user learns to upgrade rather than that a token format changed.
 * @param hello - the client's Hello
 * @param expectedToken - the daemon's auth token (hex, from token.ts)
 * @param ourVersion - the daemon's protocol version (default PROTOCOL_VERSION)
 * @returns the message to send in Refused (e.g. `omnishd speaks protocol 1, this omnish speaks 2`,
 *   `missing auth token`, `bad auth token`), or null to accept
 */
export function checkHello(hello: Hello, expectedToken: string, ourVersion: number = PROTOCOL_VERSION): string | null {
  if (hello.protocolVersion !== ourVersion) return versionMismatchMessage('Hello', hello.protocolVersion, ourVersion);
  if (hello.token === '') return 'missing auth token';
  if (expectedToken === '' || !sameToken(hello.token, expectedToken)) return 'bad auth token';
  return null;
}

/**
 * Client side: decides whether the daemon's Welcome lets us go on.
 * @param welcome - the daemon's Welcome
 * @param ourVersion - the client's protocol version (default PROTOCOL_VERSION)
 * @returns a message for the user (e.g. `omnishd speaks protocol 2, this omnish speaks 1`), or null
 */
export function checkWelcome(welcome: Welcome, ourVersion: number = PROTOCOL_VERSION): string | null {
  if (welcome.protocolVersion !== ourVersion) return versionMismatchMessage('Welcome', welcome.protocolVersion, ourVersion);
  return null;
}

/**
 * Client side: whether the daemon that sent this Welcome answers control method `method`.
 * @returns true or false from Welcome.methods; undefined for an omnishd from before that field,
 *   which a client cannot judge before it asks
 */
export function daemonOffers(welcome: Welcome, method: string): boolean | undefined {
  return welcome.methods?.includes(method);
}
