// One card per run: progress bar, live DAG view, cancel and clear, and the result when done.
import type { Dag, HandoutNode, RunEvents, RunResult } from '../src/index.ts';
import { DagView, formatBytes, short } from './dag-view.ts';

export interface Sample {
  readonly title: string;
  readonly dag: Dag;
  /** Shows the run's result in its card. */
  show(result: RunResult, into: HTMLElement): void;
}

export type FetchLog = (dagId: string, fetch: RunEvents['task:fetched']) => void;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** Starts a sample on the node and shows it in a new card at the top of `list`. */
export function startRun(
  node: HandoutNode,
  sample: Sample,
  list: HTMLElement,
  log: FetchLog,
): void {
  const { dag } = sample;
  const total = dag.size;
  const view = new DagView(dag);
  const state = h('span', { className: 'state', textContent: 'running' });
  const progress = h('progress', { max: total, value: 0 });
  progress.setAttribute('aria-label', `${sample.title}: tasks done`);
  const count = h('span', { className: 'count', textContent: `0 / ${total}` });
  const cancel = h('button', { type: 'button', textContent: 'Cancel' });
  const clear = h('button', { type: 'button', textContent: 'Clear', disabled: true });
  cancel.setAttribute('aria-label', `Cancel ${sample.title} (${dag.id})`);
  clear.setAttribute('aria-label', `Clear ${sample.title} (${dag.id})`);
  const result = h('div', { className: 'result' });
  const card = h(
    'article',
    { className: 'run' },
    h(
      'header',
      {},
      h('h3', { textContent: sample.title }),
      h('code', { textContent: dag.id }),
      state,
      cancel,
      clear,
    ),
    h('div', { className: 'progress' }, progress, count),
    h('div', { className: 'view' }, view.svg),
    result,
  );
  card.dataset.state = 'running';
  card.dataset.dag = dag.id;
  list.prepend(card);

  const handle = node.submit(dag, { collect: 'sinks' });
  let done = 0;
  handle.on('task:placed', ({ taskId, peer }) => view.task(taskId, 'placed', peer));
  handle.on('task:started', ({ taskId, peer }) => view.task(taskId, 'running', peer));
  handle.on('task:finished', ({ taskId, peer }) => {
    view.task(taskId, 'done', peer);
    progress.value = ++done;
    count.textContent = `${done} / ${total}`;
  });
  handle.on('task:failed', ({ taskId, peer, willRetry }) =>
    view.task(taskId, willRetry ? 'waiting' : 'failed', peer),
  );
  handle.on('task:lost', ({ taskId }) => {
    view.task(taskId, 'waiting');
    progress.value = --done;
  });
  handle.on('task:fetched', (fetch) => {
    view.crossed(fetch.argId, fetch.taskId, fetch.bytes);
    log(dag.id, fetch);
  });
  const settle = (text: string, ended: string) => {
    state.textContent = text;
    card.dataset.state = ended;
    cancel.disabled = true;
    clear.disabled = false;
  };
  handle.done.then(
    (outcome) => {
      const peers = new Set(Object.values(outcome.allocations));
      settle(`done on ${peers.size} peer${peers.size === 1 ? '' : 's'}`, 'done');
      sample.show(outcome, result);
    },
    (error: Error) =>
      settle(
        `${error.name}: ${error.message}`,
        error.name === 'CancelledError' ? 'cancelled' : 'failed',
      ),
  );
  cancel.addEventListener('click', () => handle.cancel('cancelled from the page'));
  clear.addEventListener('click', async () => {
    clear.disabled = true;
    await node.clear(dag.id);
    card.remove();
  });
}

/** A fetch log row: which argument moved between which peers, how large, how fast. */
export function fetchRow(dagId: string, f: RunEvents['task:fetched']): HTMLTableRowElement {
  const row = h('tr');
  const mbps = f.ms > 0 ? `${(f.bytes / 1e6 / (f.ms / 1000)).toFixed(1)} MB/s` : '';
  for (const text of [
    dagId,
    f.argId,
    `${short(f.from)} → ${short(f.to)}`,
    f.lane === 'same-browser' ? 'same browser' : f.lane === 'webrtc' ? 'WebRTC' : f.lane,
    formatBytes(f.bytes),
    `${f.ms.toFixed(1)} ms`,
    mbps,
  ])
    row.append(h('td', { textContent: text }));
  return row;
}

export { h };
