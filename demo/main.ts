// The first demo: one tab runs a map-reduce DAG on its own node and lists what its IndexedDB
// holds. The multi-tab swarm arrives with the network layer.
import { createNode, Dag, type HandoutNode } from '../src/index.ts';

const functions = {
  range: (n: number) => Array.from({ length: n }, (_, i) => i),
  square: (xs: number[], i: number) => (xs[i] ?? 0) ** 2,
  sum: (xs: number[]) => xs.reduce((s, x) => s + x, 0),
};

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} missing from the page`);
  return el;
}

function mapReduce(width: number): Dag {
  const dag = new Dag();
  dag.add({ id: 'range', fn: 'range', extraArgs: [width] });
  const parts: string[] = [];
  for (let i = 0; i < width; i++) {
    dag.add({ id: `sq${i}`, fn: 'square', args: ['range'], extraArgs: [i] });
    parts.push(`sq${i}`);
  }
  dag.add({ id: 'total', fn: 'sum', args: parts, argsAsList: true });
  return dag;
}

async function showDags(node: HandoutNode): Promise<void> {
  const items = await Promise.all(
    (await node.dags()).map(async (dagId) => {
      const li = document.createElement('li');
      const count = (await node.store.keys(dagId)).length;
      li.append(`${dagId}: ${count} results `);
      const clear = document.createElement('button');
      clear.textContent = 'Clear';
      clear.setAttribute('aria-label', `Clear DAG ${dagId}`);
      clear.addEventListener('click', async () => {
        await node.clear(dagId);
        await showDags(node);
      });
      li.append(clear);
      return li;
    }),
  );
  $('dags').replaceChildren(...items);
}

const node = await createNode({
  functions,
  id: sessionStorage.getItem('handout-demo-id') ?? undefined,
});
sessionStorage.setItem('handout-demo-id', node.id);
$('node-id').textContent = node.id;
$('store').textContent = node.store.name;
await showDags(node);

$('run-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const width = Number(($('width') as HTMLInputElement).value);
  const dag = mapReduce(width);
  $('run-status').textContent = `running ${dag.size} tasks…`;
  const started = performance.now();
  try {
    const { results } = await node.execute(dag);
    const ms = performance.now() - started;
    $('run-status').textContent =
      `sum of squares below ${width} = ${results.total} (${dag.size} tasks in ${ms.toFixed(0)} ms)`;
  } catch (error) {
    $('run-status').textContent = `failed: ${(error as Error).message}`;
  }
  await showDags(node);
});
