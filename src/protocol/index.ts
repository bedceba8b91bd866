/** Public surface of the wire protocol (docs/protocol.md). Pure: no I/O, imports nothing of ours. */
export * from './messages.js';
export { ProtocolError, type ProtocolErrorCode, type ProtocolErrorOptions } from './errors.js';
export { encodeFrame, FrameDecoder, type FrameDecoderOptions } from './frame.js';
export { validatePayload, versionMismatchMessage } from './schema.js';
export { checkHello, checkWelcome, daemonOffers } from './handshake.js';
export * from './requests.js';
export * from './events.js';
