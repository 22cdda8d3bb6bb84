// The script of each Web Worker in a browser node's function pool.
import type { FromWorker, ToWorker } from './pool-protocol.ts';
import { servePool } from './pool-serve.ts';

const scope = globalThis as unknown as {
  postMessage(message: FromWorker, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};
servePool({
  post: (message, transfer) => scope.postMessage(message, transfer),
  listen: (listener) => {
    scope.onmessage = ({ data }) => listener(data);
  },
});
