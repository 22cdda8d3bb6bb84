// Benchmark scenarios that run inside a page; bench/run.mjs drives them and reports.
import { createMemoryStore, createNode, Dag, type HandoutNode } from '../../src/index.ts';

const functions = {
  seed: () => 1,
  inc: (x: number) => x + 1,
  count: (xs: number[]) => xs.length,
};

/** One source, `tasks - 2` trivial middle tasks, one sink taking them all as a list. */
function fanOutFanIn(tasks: number): Dag {
  const dag = new Dag();
  dag.add({ id: 'src', fn: 'seed' });
  const middle: string[] = [];
  for (let i = 0; i < tasks - 2; i++) {
    const id = `t${i}`;
    dag.add({ id, fn: 'inc', args: ['src'] });
    middle.push(id);
  }
  dag.add({ id: 'sink', fn: 'count', args: middle, argsAsList: true });
  return dag;
}

export interface LocalOptions {
  readonly store: 'indexeddb' | 'memory';
  readonly tasks: number;
  readonly runs: number;
  readonly warmup: number;
}

/** Milliseconds per run (build, validate, execute, store every result), after warm-up runs. */
async function local({ store, tasks, runs, warmup }: LocalOptions): Promise<number[]> {
  const node: HandoutNode = await createNode({
    functions,
    store: store === 'memory' ? createMemoryStore() : 'indexeddb',
  });
  const times: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const started = performance.now();
    const dag = fanOutFanIn(tasks);
    const { results } = await node.execute(dag, { maxConcurrency: 64 });
    const elapsed = performance.now() - started;
    if (results.sink !== tasks - 2) throw new Error(`wrong sink result ${String(results.sink)}`);
    if (i >= warmup) times.push(elapsed);
    await node.clear(dag.id);
  }
  await node.close();
  return times;
}

declare global {
  interface Window {
    bench: { local: typeof local };
  }
}
window.bench = { local };
document.getElementById('status')?.replaceChildren('ready');
