// Loaded by every browser test: puts the library and a fixed function registry on `window`, so
// tests drive real nodes with `page.evaluate` while code itself never crosses any wire.
import * as handout from '../../../src/index.ts';

const functions = {
  identity: (x: unknown) => x,
  multiply: (a: number, b: number) => a * b,
  add: (...xs: number[]) => xs.reduce((s, x) => s + x, 0),
  format: (x: unknown) => `value: ${String(x)}`,
  /** Returns something IndexedDB cannot store. */
  makeFunction: () => () => 1,
  bytes: (n: number) => new Uint8Array(n).map((_, i) => i % 251),
} satisfies handout.FunctionRegistry;

const nodes = new Map<string, handout.HandoutNode>();

const harness = {
  ...handout,
  functions,
  nodes,
  async node(options: Omit<handout.NodeOptions, 'functions'> = {}) {
    const node = await handout.createNode({ functions, ...options });
    nodes.set(node.id, node);
    return node;
  },
  /** The README's example DAG, seeded so two runs hold different values. */
  exampleDag(id: string | undefined, seed: number) {
    return new handout.Dag(id)
      .add({ id: 'src', fn: 'identity', extraArgs: [seed] })
      .add({ id: 'dbl', fn: 'multiply', args: ['src'], extraArgs: [2] })
      .add({ id: 'out', fn: 'format', args: ['dbl'] });
  },
  /** Every `[key, value]` in a database's `results` store, read with the raw IndexedDB API. */
  rawResults(dbName: string): Promise<[IDBValidKey, unknown][]> {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open(dbName);
      // Reading must not create a database that is not there: abort the creation instead.
      open.onupgradeneeded = () => open.transaction?.abort();
      open.onerror = () => (open.error?.name === 'AbortError' ? resolve([]) : reject(open.error));
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains('results')) {
          db.close();
          resolve([]);
          return;
        }
        const store = db.transaction('results', 'readonly').objectStore('results');
        const keys = store.getAllKeys();
        const values = store.getAll();
        values.onsuccess = () => {
          db.close();
          resolve(keys.result.map((key, i) => [key, values.result[i]]));
        };
        values.onerror = () => reject(values.error);
      };
    });
  },
  async databases(): Promise<string[]> {
    return (await indexedDB.databases()).map((db) => db.name ?? '').sort();
  },
};

declare global {
  interface Window {
    harness: typeof harness;
  }
}
window.harness = harness;
document.getElementById('status')?.replaceChildren('ready');
