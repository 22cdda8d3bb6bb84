import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { createMemoryStore } from '../data/memory-store.ts';
import type { Platform } from '../runtime/platform.ts';
import type { PoolWorker } from '../runtime/pool/pool.ts';
import type { FromWorker, ToWorker } from '../runtime/pool/pool-protocol.ts';
import { installGlobals } from './globals.ts';

// Run from source the thread's script is TypeScript; from the build, JavaScript.
const fromSource = import.meta.url.endsWith('.ts');
const threadScript = new URL(fromSource ? './pool-thread.ts' : './pool-thread.js', import.meta.url);
// tsx's loader does not reach worker threads: a thread registers it itself when this process
// runs TypeScript (from source, or with `--import tsx`), so a module of functions may be .ts too.
const withTsx = fromSource || process.execArgv.some((arg) => arg.includes('tsx'));

function startThread(): Worker {
  if (!withTsx) return new Worker(threadScript, { name: 'handout-pool' });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(threadScript.href)}); })`;
  return new Worker(boot, { eval: true, name: 'handout-pool' });
}

/**
 * A worker thread behind the pool's Web Worker shape. It keeps the process alive only while it
 * has work (loading the module, a call), so a script that forgets `close()` still exits. A thread
 * that exits on its own (a function called `process.exit`) counts as crashed.
 */
function spawnThread(): PoolWorker {
  const thread = startThread();
  let terminated = false;
  let busy = 0;
  const hold = (change: number) => {
    busy += change;
    if (busy > 0) thread.ref();
    else thread.unref();
  };
  const worker: PoolWorker = {
    postMessage(message: ToWorker) {
      if (message.type !== 'abort') hold(1);
      thread.postMessage(message);
    },
    onmessage: null,
    onerror: null,
    terminate: () => {
      terminated = true;
      void thread.terminate();
    },
  };
  thread.on('message', (data: FromWorker) => {
    hold(-1);
    worker.onmessage?.({ data });
  });
  thread.on('error', (error: Error) => worker.onerror?.({ message: error.message }));
  thread.on('exit', (code) => {
    if (!terminated) worker.onerror?.({ message: `its thread exited with code ${code}` });
  });
  hold(0);
  return worker;
}

/** Node.js: memory or a store given (SQLite), worker threads, the machine's cores and memory. */
export const nodePlatform: Platform = {
  openStore(id, choice) {
    if (choice === 'indexeddb')
      throw new TypeError(
        "createNode: there is no IndexedDB in Node.js; use store: 'memory' or createSqliteStore(file)",
      );
    return createMemoryStore(`memory:${id}`);
  },
  spawnWorker: spawnThread,
  cores: os.availableParallelism(),
  capabilities: () => ({
    cpu: os.availableParallelism(),
    memory: Math.round(os.totalmem() / 2 ** 30),
  }),
  beforeRoom: installGlobals,
};
