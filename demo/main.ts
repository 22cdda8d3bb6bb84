// The demo: each tab is a node of one room (?room=name picks another). It lists its peers live
// and runs a map-reduce DAG on its own node, listing what its IndexedDB holds.
import { createNode, Dag, type HandoutNode } from '../src/index.ts';

const params = new URLSearchParams(location.search);
const coordinator =
  params.get('coordinator') ?? (import.meta.env.VITE_HANDOUT_COORDINATOR as string | undefined);
const room = params.get('room') ?? 'demo';

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

function showPeers(node: HandoutNode): void {
  const items = node.peers().map((p) => {
    const li = document.createElement('li');
    const caps = Object.entries(p.capabilities)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    li.textContent = `${p.id} (${caps})`;
    return li;
  });
  if (items.length === 0) {
    items.push(
      Object.assign(document.createElement('li'), { textContent: 'none yet: open another tab' }),
    );
  }
  $('peers').replaceChildren(...items);
}

async function start(): Promise<HandoutNode> {
  if (coordinator === undefined) {
    $('connection').textContent = 'local (no coordinator given)';
    return createNode({ functions });
  }
  try {
    const swarm = await createNode({ functions, coordinator, room });
    $('connection').textContent = 'connected';
    return swarm;
  } catch (error) {
    $('connection').textContent = `coordinator unreachable (${(error as Error).message}); local`;
    return createNode({ functions });
  }
}

$('room').textContent = room;
const node = await start();
$('node-id').textContent = node.id;
$('store').textContent = node.store.name;
node.on('peer:join', () => showPeers(node));
node.on('peer:leave', () => showPeers(node));
node.on('coordinator:down', () => {
  $('connection').textContent = 'coordinator lost, reconnecting… (peers stay connected)';
});
node.on('coordinator:up', () => {
  $('connection').textContent = 'connected';
});
$('open-tab').addEventListener('click', () => window.open(location.href, '_blank'));
showPeers(node);
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
