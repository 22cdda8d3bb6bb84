import type { ResultStore } from '../data/store.ts';
import type { Resources } from '../resources.ts';
import type { PoolWorker } from './pool/pool.ts';

/**
 * What differs between a browser and Node.js, handed to the runtime by each entry point: so the
 * browser build never loads Node.js modules and the Node.js build never loads IndexedDB.
 */
export interface Platform {
  /** The store for `store: 'indexeddb' | 'memory'`, or when none is given. */
  openStore(id: string, choice: 'indexeddb' | 'memory' | undefined): ResultStore;
  /** Starts one worker of a function pool (a Web Worker, a worker thread), running pool-serve. */
  spawnWorker(): PoolWorker;
  /** The pool's size when `workers` is not given, and the `cpu` capability's default. */
  readonly cores: number;
  /** Resources this machine has unless the options say otherwise. */
  capabilities(): Resources;
  /** Readies the platform to join a room over a coordinator (Node.js: WebRTC and WebSocket). */
  beforeRoom?(): Promise<void>;
}
