import { DataNotFoundError } from '../errors.ts';
import type { ResultStore } from './store.ts';

/**
 * A {@link ResultStore} in memory: fast, gone with the page. Values are kept by reference,
 * not cloned, so a function that mutates its argument mutates the stored result too.
 *
 * @example
 * const node = await createNode({ functions, store: createMemoryStore() });
 */
export function createMemoryStore(name = 'memory'): ResultStore {
  const dags = new Map<string, Map<string, unknown>>();
  const done = Promise.resolve();
  return {
    name,
    get(dagId, dataId) {
      const items = dags.get(dagId);
      if (items?.has(dataId)) return Promise.resolve(items.get(dataId));
      return Promise.reject(new DataNotFoundError(dagId, dataId));
    },
    put(dagId, dataId, value) {
      const items = dags.get(dagId) ?? new Map<string, unknown>();
      if (items.size === 0) dags.set(dagId, items);
      items.set(dataId, value);
      return done;
    },
    has: async (dagId, dataId) => dags.get(dagId)?.has(dataId) ?? false,
    async find(dagId, dataId) {
      const items = dags.get(dagId);
      return items?.has(dataId) ? { value: items.get(dataId) } : undefined;
    },
    async delete(dagId, dataId) {
      const items = dags.get(dagId);
      items?.delete(dataId);
      if (items?.size === 0) dags.delete(dagId);
    },
    async clearDag(dagId) {
      dags.delete(dagId);
    },
    keys: async (dagId) => [...(dags.get(dagId)?.keys() ?? [])],
    dags: async () => [...dags.keys()],
    close: () => done,
  };
}
