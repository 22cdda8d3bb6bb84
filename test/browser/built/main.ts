// A page as an application would ship it: built by Vite for production, its pool's workers
// bundled from tasks.worker.ts (see pool.spec.ts).
import { createNode, Dag } from '../../../src/index.ts';

const node = await createNode({
  functions: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
  workers: 2,
  store: 'memory',
});

async function run(n: number) {
  const dag = new Dag()
    .add({ id: 'w', fn: 'where', extraArgs: [n] })
    .add({ id: 'b', fn: 'bytes', extraArgs: [n] })
    .add({ id: 'sum', fn: 'sumBytes', args: ['b'] });
  const { results } = await node.execute(dag);
  return { where: results.w, sum: results.sum, nodeId: node.id };
}

Object.assign(window, { built: { run } });
(document.getElementById('status') as HTMLElement).textContent = 'ready';
