import { createIndexedDbStore } from '../data/idb-store.ts';
import { createMemoryStore } from '../data/memory-store.ts';
import type { Platform } from './platform.ts';
import type { PoolWorker } from './pool/pool.ts';
import { detectCapabilities } from './swarm.ts';

/** Browsers (and anything with their globals): IndexedDB where it exists, Web Workers. */
export const browserPlatform: Platform = {
  openStore(id, choice) {
    const wantsIdb =
      choice === 'indexeddb' || (choice === undefined && typeof indexedDB !== 'undefined');
    return wantsIdb ? createIndexedDbStore(`handout-${id}`) : createMemoryStore(`memory:${id}`);
  },
  spawnWorker(): PoolWorker {
    if (typeof Worker === 'undefined')
      throw new TypeError('createNode: a module of functions needs Web Workers, absent here');
    return new Worker(new URL('./pool/pool-worker.ts', import.meta.url), {
      type: 'module',
      name: 'handout-pool',
    }) as unknown as PoolWorker;
  },
  get cores() {
    return (
      (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
        ?.hardwareConcurrency ?? 2
    );
  },
  capabilities: detectCapabilities,
};
