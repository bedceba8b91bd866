/**
 * The search indexer's thread (indexer-thread.ts starts it): rendering output to text, deflating
 * it and writing SQLite take CPU that must not come out of the thread that reads the clients'
 * sockets and writes the store. The thread runs an Indexer and answers its owner's messages;
 * its log lines go to the owner, which writes them to omnishd's log.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SessionStore } from '../store/index.js';
import { Indexer, type IndexLog } from './indexer.js';
import type { IndexerMessage, IndexerReply } from './indexer-thread.js';

const port = parentPort;
if (!port) throw new Error('index-worker.ts runs as a worker thread');
const { path, sessionsDir } = workerData as { path: string; sessionsDir: string };
const post = (reply: IndexerReply): void => port.postMessage(reply);
const log: IndexLog = {
  info: (obj, msg) => post({ type: 'log', level: 'info', obj, msg }),
  warn: (obj, msg) => post({ type: 'log', level: 'warn', obj, msg }),
  error: (obj, msg) => post({ type: 'log', level: 'error', obj, msg }),
};
const indexer = new Indexer(path, new SessionStore(sessionsDir), log, (status) => post({ type: 'status', status }));
const started = indexer.start();

/** A structured clone turns a Buffer into a plain Uint8Array: make it a Buffer again (no copy). */
const buffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

port.on('message', (m: IndexerMessage) => {
  switch (m.type) {
    case 'add':
      indexer.add(m.session, { record: m.finished.record, head: buffer(m.finished.head), output: buffer(m.finished.output) });
      break;
    case 'retained':
      indexer.retained(m.report);
      break;
    case 'rebuild':
      void started.then(() => indexer.rebuild()).then((status) => post({ type: 'result', id: m.id, status }));
      break;
    case 'close':
      void started.then(() => indexer.close()).then(() => post({ type: 'result', id: m.id, status: indexer.status() }));
      break;
  }
});
