// The script of each worker thread in a Node.js node's function pool.
import { parentPort } from 'node:worker_threads';
import type { ToWorker } from '../runtime/pool/pool-protocol.ts';
import { servePool } from '../runtime/pool/pool-serve.ts';

const port = parentPort;
if (port === null) throw new Error('pool-thread.ts runs in a worker thread of a function pool');
servePool({
  post: (message, transfer) => port.postMessage(message, transfer),
  listen: (listener) => port.on('message', (message: ToWorker) => listener(message)),
});
