import { createNode, Dag } from 'handout';

// Where the app's coordinator runs (`handout-coordinator`, behind the app's reverse proxy).
const coordinator = `${location.origin}/handout`;

const $ = (id: string) => document.getElementById(id) as HTMLElement;
// The task functions run in two Web Workers of this tab (src/tasks.worker.ts).
const node = await createNode({
  functions: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
  workers: 2,
  coordinator,
  room: 'embed',
});
const showPeers = () => {
  $('peers').textContent = String(node.peers().length);
};
node.on('peer:join', showPeers);
node.on('peer:leave', showPeers);
showPeers();

/** One `square` task pinned to each tab of the room (this one too), and their sum. */
async function run(): Promise<void> {
  const ids = [node.id, ...node.peers().map((p) => p.id)];
  const dag = new Dag();
  ids.forEach((id, i) => {
    dag.add({ id: `square-${i + 1}`, fn: 'square', extraArgs: [i + 1], node: id });
  });
  dag.add({
    id: 'sum',
    fn: 'sum',
    args: ids.map((_, i) => `square-${i + 1}`),
    argsAsList: true,
  });
  $('dag').textContent = dag.id;
  const { results, allocations } = await node.execute(dag);
  $('result').textContent = String(results.sum);
  $('ran-on').textContent = String(new Set(Object.values(allocations)).size);
}

/** 8 MiB made on a peer's tab, summed on this one: a large value crossing the room. */
async function big(): Promise<void> {
  const peer = node.peers()[0];
  if (peer === undefined) throw new Error('no peer yet');
  const dag = new Dag()
    .add({ id: 'bytes', fn: 'bytes', extraArgs: [8 << 20], node: peer.id })
    .add({ id: 'checksum', fn: 'checksum', args: ['bytes'], node: node.id });
  const { results } = await node.execute(dag, { collect: 'sinks' });
  $('checksum').textContent = String(results.checksum);
}

for (const [id, action, output] of [
  ['run', run, 'result'],
  ['big', big, 'checksum'],
] as const) {
  const button = $(id) as HTMLButtonElement;
  button.addEventListener('click', () => {
    button.disabled = true;
    action()
      .catch((error: unknown) => {
        $(output).textContent = `error: ${String(error)}`;
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  button.disabled = false;
}
