// Scenarios for tabs of one real window, some hidden (bench/hidden.ts drives them over the
// DevTools protocol): a one-task DAG pinned on a peer, a pinned chain, independent tasks.
// A tab may hold one node per room.
import { createNode, Dag, type HandoutNode } from '../../src/index.ts';

const functions = {
  seed: () => 1,
  inc: (x: number) => x + 1,
};

const nodes = new Map<string, HandoutNode>();
const left: string[] = [];

function node(room: string): HandoutNode {
  const found = nodes.get(room);
  if (found === undefined) throw new Error(`no node in room ${room}`);
  return found;
}

async function join(coordinator: string, room: string): Promise<string> {
  const made = await createNode({ coordinator, room, functions });
  made.on('peer:leave', (p) => left.push(`${p.id}: ${p.reason}`));
  nodes.set(room, made);
  return made.id;
}

/** Resolves once the room's node sees `count` peers. */
function meet(room: string, count: number): Promise<void> {
  const n = node(room);
  return new Promise((resolve) => {
    const check = () => {
      if (n.peers().length < count) return;
      off();
      resolve();
    };
    const off = n.on('peer:join', check);
    check();
  });
}

/** Milliseconds of a one-task DAG pinned on `peer`. */
async function smallDag(room: string, peer: string): Promise<number> {
  const dag = new Dag().add({ id: 't', fn: 'seed', node: peer });
  const started = performance.now();
  const { results } = await node(room).execute(dag);
  if (results.t !== 1) throw new Error('wrong result');
  return performance.now() - started;
}

/** Milliseconds per hop of a chain of `length` tasks pinned alternately on `pins`. */
async function chain(room: string, length: number, pins: string[]): Promise<number> {
  const dag = new Dag();
  for (let i = 0; i < length; i++) {
    const pin = pins[i % pins.length];
    dag.add(
      i === 0
        ? { id: 't0', fn: 'seed', node: pin }
        : { id: `t${i}`, fn: 'inc', args: [`t${i - 1}`], node: pin },
    );
  }
  const started = performance.now();
  const { results } = await node(room).execute(dag, { collect: 'sinks' });
  if (results[`t${length - 1}`] !== length) throw new Error('wrong chain result');
  return (performance.now() - started) / length;
}

/** Tasks a second for `tasks` independent trivial tasks spread over the room. */
async function dispatch(room: string, tasks: number): Promise<number> {
  const dag = new Dag();
  for (let i = 0; i < tasks; i++) dag.add({ id: `t${i}`, fn: 'seed' });
  const started = performance.now();
  await node(room).execute(dag, { collect: 'none' });
  return tasks / ((performance.now() - started) / 1000);
}

declare global {
  interface Window {
    hidden: {
      join: typeof join;
      meet: typeof meet;
      smallDag: typeof smallDag;
      chain: typeof chain;
      dispatch: typeof dispatch;
      left: string[];
    };
  }
}
window.hidden = { join, meet, smallDag, chain, dispatch, left };
