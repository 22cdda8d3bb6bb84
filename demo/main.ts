// The demo: every tab is a node of one room (?room=name picks another), its task functions in a
// pool of Web Workers. Any tab runs sample DAGs over the room and shows them live.
import { createNode, type HandoutNode } from '../src/index.ts';
import { short } from './dag-view.ts';
import { peerColour, VIEW } from './mandelbrot.ts';
import { fetchRow, h, type Sample, startRun } from './runs.ts';
import { mandelbrotDag, pipelineDag, wordCountDag } from './samples.ts';
import { runStream } from './stream.ts';
import { ALICE } from './text.ts';

const params = new URLSearchParams(location.search);
const coordinator =
  params.get('coordinator') ?? (import.meta.env.VITE_HANDOUT_COORDINATOR as string | undefined);
const room = params.get('room') ?? 'demo';
// Each worker of the pool runs tasks.worker.ts, which Vite bundles with the functions it serves.
const functions = () =>
  new Worker(new URL('./tasks.worker.ts', import.meta.url), {
    type: 'module',
    name: 'handout-pool',
  });

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} missing from the page`);
  return el;
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

function showPeers(node: HandoutNode): void {
  const row = (id: string, caps: Record<string, number>, self: boolean, lane?: string) => {
    const load = node.load(id);
    const [r, g, b] = peerColour(id);
    const swatch = h('span', { className: 'swatch' });
    swatch.style.background = `rgb(${r} ${g} ${b})`;
    const capabilities = Object.entries(caps)
      .map(([k, v]) => ` · ${k} ${v}`)
      .join(',');
    return h(
      'li',
      {},
      swatch,
      h('code', { textContent: short(id), title: id }),
      self ? ' (this tab)' : '',
      self
        ? ''
        : h('span', {
            className: `lane lane-${lane ?? 'none'}`,
            textContent:
              lane === undefined ? 'no link' : lane === 'same-browser' ? 'same browser' : 'WebRTC',
            title:
              lane === undefined
                ? 'no link open now: one opens when there is something to send, and closes when idle'
                : lane === 'same-browser'
                  ? 'a tab of this browser: a MessagePort, no WebRTC'
                  : 'another browser, machine or Node.js process: a WebRTC data channel',
          }),
      `${capabilities} · ${load.tasks} task${load.tasks === 1 ? '' : 's'} running`,
    );
  };
  const items = [
    row(node.id, {}, true),
    ...node.peers().map((p) => row(p.id, p.capabilities as Record<string, number>, false, p.lane)),
  ];
  $('peers').replaceChildren(...items);
  $('peer-count').textContent = String(node.peers().length);
}

// A tab in the background keeps working at full speed: say which this one is.
const showVisibility = () => {
  $('visibility').textContent =
    document.visibilityState === 'visible'
      ? 'this tab is in front'
      : 'this tab is in the background';
};
document.addEventListener('visibilitychange', showVisibility);
showVisibility();

$('room').textContent = room;
const node = await start();
$('node-id').textContent = node.id;
$('store').textContent = node.store.name;
for (const event of ['peer:join', 'peer:leave'] as const) node.on(event, () => showPeers(node));
node.on('coordinator:down', () => {
  $('connection').textContent = 'coordinator lost, reconnecting… (peers stay connected)';
});
node.on('coordinator:up', () => {
  $('connection').textContent = 'connected';
});
showPeers(node);
setInterval(() => showPeers(node), 500);
$('open-tab').addEventListener('click', () => window.open(location.href, '_blank'));

const runs = $('runs');
const log = (dagId: string, fetch: Parameters<Parameters<typeof startRun>[3]>[1]) => {
  const rows = $('fetches');
  rows.prepend(fetchRow(dagId, fetch));
  while (rows.childElementCount > 200) rows.lastElementChild?.remove();
};

const mandelbrot = (): Sample => ({
  title: 'Mandelbrot tiles',
  dag: mandelbrotDag(VIEW),
  show(result, into) {
    const canvas = h('canvas', { width: VIEW.width, height: VIEW.height, className: 'mandelbrot' });
    canvas.setAttribute(
      'aria-label',
      'The Mandelbrot set; each tile outlined in its peer’s colour',
    );
    const rgba = result.results.image as Uint8ClampedArray;
    canvas
      .getContext('2d')
      ?.putImageData(new ImageData(new Uint8ClampedArray(rgba), VIEW.width), 0, 0);
    const byPeer = new Map<string, number>();
    for (const [id, peer] of Object.entries(result.allocations))
      if (id.startsWith('tile-')) byPeer.set(peer, (byPeer.get(peer) ?? 0) + 1);
    const legend = h('p', { className: 'legend' });
    for (const [peer, n] of byPeer) {
      const [r, g, b] = peerColour(peer);
      const swatch = h('span', { className: 'swatch' });
      swatch.style.background = `rgb(${r} ${g} ${b})`;
      legend.append(swatch, `${short(peer)}: ${n} tiles  `);
    }
    into.replaceChildren(canvas, legend);
  },
});

const words = (): Sample => ({
  title: 'Word count (Alice, chapter I)',
  dag: wordCountDag(ALICE),
  show(result, into) {
    const top = result.results.top as [string, number][];
    const list = h('ol', { className: 'words' });
    for (const [word, n] of top)
      list.append(h('li', {}, h('strong', { textContent: word }), ` ${n}`));
    into.replaceChildren(list);
  },
});

const pipeline = (): Sample => {
  const mib = Number(($('mib') as HTMLInputElement).value) || 32;
  const peers = [node.id, ...node.peers().map((p) => p.id)];
  const order =
    peers.length > 1
      ? [peers[1] as string, peers[peers.length > 2 ? 2 : 0] as string, node.id]
      : peers;
  return {
    title: `Typed-array pipeline (${mib} MiB)`,
    dag: pipelineDag(mib, order),
    show(result, into) {
      const s = result.results.stats as { mean: number; min: number; max: number; n: number };
      into.replaceChildren(
        h('p', {
          textContent: `${s.n.toLocaleString()} samples: mean ${s.mean.toFixed(4)}, min ${s.min.toFixed(3)}, max ${s.max.toFixed(3)}. Each stage ran on its pinned peer; see the fetch log for the transfers.`,
        }),
      );
    },
  };
};

$('run-mandelbrot').addEventListener('click', () => startRun(node, mandelbrot(), runs, log));
$('run-words').addEventListener('click', () => startRun(node, words(), runs, log));
$('run-stream').addEventListener('click', () => {
  const into = $('stream');
  runStream(node, into).catch((error: unknown) => {
    into.replaceChildren(h('p', { textContent: `the pipeline failed: ${String(error)}` }));
  });
});
$('pipeline-form').addEventListener('submit', (event) => {
  event.preventDefault();
  startRun(node, pipeline(), runs, log);
});
document.body.dataset.ready = 'true';
