/**
 * The on-disk session store (docs/store-format.md): session directories with meta.json,
 * stream.bin and events.jsonl. Used by the daemon (writing) and the CLI (reading).
 */
export {
  HEADER_SIZE, MAX_PAYLOAD, RECORD_HEADER_SIZE, RecordKind, STREAM_MAGIC, STREAM_VERSION,
  type StreamRecord,
} from './format.js';
export { StreamReader, readStream, scanStream, type StreamEnd, type StreamReaderOptions, type StreamScan } from './reader.js';
export { STORE_WRITE_FAILED, StreamWriter, type StreamWriterOptions, type WriteListener } from './writer.js';
export {
  META_FORMAT_VERSION, parseMeta, readMeta, updateMeta, writeMeta,
  type EndReason, type MetaPatch, type NewSessionMeta, type SessionId, type SessionMeta,
} from './meta.js';
export { EVENTS_FILE, appendEvent, readEvents } from './events.js';
export {
  lastCommandSeq, readCommandRecords,
  type CommandRecord, type EventKind, type EventRecord, type ExplanationRecord, type SessionRecord,
} from './records.js';
export { STREAM_FILE, SessionHandle, SessionStore, sessionDirName, type StoredSession } from './store.js';
export { renderOutput, type RenderOptions } from './render.js';
export { readOutputRange, visitOutputRanges, type OutputRange, type OutputSpan, type TerminalSize } from './output.js';
export { applyRetention, dirBytes, type RetentionLimits, type RetentionOptions, type RetentionReport } from './retention.js';
export { TRIM_REASON } from './trim.js';
export {
  THREAD_FORMAT_VERSION, ThreadStore, newThreadId, parseThread, pruneThreads,
  type ThreadId, type ThreadPruneOptions, type ThreadPruneReason, type ThreadRecord, type ThreadTurn,
} from './threads.js';
