// The streaming sample: a pipeline of three stages placed across the room (one per tab when
// there are three), the first with an `init` that builds a lookup table once per hosting tab;
// items pushed through it and a live items/s counter per stage and tab.
import { Dag, type HandoutNode } from '../src/index.ts';
import { short } from './dag-view.ts';
import { h } from './runs.ts';

const ITEMS = 5000;

export async function runStream(node: HandoutNode, into: HTMLElement): Promise<void> {
  const dag = new Dag(`stream-${crypto.randomUUID().slice(0, 8)}`)
    .add({ id: 'item', input: true })
    .add({ id: 'score', fn: 'scoreItem', args: ['item'], init: 'buildTable', parallelism: 4 })
    .add({ id: 'label', fn: 'labelItem', args: ['score'], parallelism: 4 })
    .add({ id: 'check', fn: 'checkItem', args: ['label'], parallelism: 4 });
  const status = h('p', { id: 'stream-status', textContent: 'placing the stages…' });
  const stages = h('ul', { id: 'stream-stages' });
  into.replaceChildren(status, stages);
  const pipeline = node.stream(dag, { maxInFlight: 256 });
  await pipeline.ready;
  const started = performance.now();
  let last = { at: started, done: {} as Record<string, number> };
  const show = () => {
    const now = performance.now();
    const stats = pipeline.stats();
    const rows = Object.entries(stats.stages).map(([id, s]) => {
      const rate = ((s.done - (last.done[id] ?? 0)) * 1000) / Math.max(1, now - last.at);
      const where = s.peer === node.id ? `${short(s.peer)} (this tab)` : short(s.peer);
      return h('li', {
        textContent: `${id} on ${where}: ${s.done.toLocaleString()} items, ${Math.round(rate).toLocaleString()}/s`,
      });
    });
    stages.replaceChildren(...rows);
    last = {
      at: now,
      done: Object.fromEntries(Object.entries(stats.stages).map(([id, s]) => [id, s.done])),
    };
    status.textContent = `${stats.done.toLocaleString()} of ${ITEMS.toLocaleString()} items…`;
  };
  const timer = setInterval(show, 250);
  const pushing = (async () => {
    for (let i = 0; i < ITEMS; i++) await pipeline.push(i);
  })();
  let inOrder = true;
  let failed = 0;
  let seen = 0;
  try {
    for await (const out of pipeline) {
      if (out.id !== seen) inOrder = false;
      const right = typeof out.value === 'string' && out.value.startsWith(`${out.id}:`);
      if (!right) failed++;
      if (++seen === ITEMS) {
        show(); // while the stages are still in place: the break stops the pipeline
        break;
      }
    }
    await pushing;
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  status.textContent = `${ITEMS.toLocaleString()} items ${inOrder ? 'in push order' : 'OUT OF ORDER'}, ${failed} failed or wrong, in ${seconds.toFixed(2)} s: ${Math.round(ITEMS / seconds).toLocaleString()} items/s. The lookup table was built once on the tab hosting 'score'.`;
  status.dataset.done = 'true';
}
