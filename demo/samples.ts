// The sample DAGs the demo runs; every function is a name in demo/tasks.ts.
import { Dag } from '../src/index.ts';
import type { View } from './mandelbrot.ts';

/** One task per tile, spread over the peers, and one that assembles the picture. */
export function mandelbrotDag(view: View): Dag {
  const dag = new Dag(`mandelbrot-${crypto.randomUUID().slice(0, 8)}`);
  const tiles: string[] = [];
  for (let ty = 0; ty < view.height / view.tile; ty++) {
    for (let tx = 0; tx < view.width / view.tile; tx++) {
      const id = `tile-${tx}-${ty}`;
      dag.add({ id, fn: 'mandelbrotTile', extraArgs: [view, tx, ty], cost: { cpu: 1 } });
      tiles.push(id);
    }
  }
  return dag.add({ id: 'image', fn: 'assemble', args: tiles, argsAsList: true, extraArgs: [view] });
}

/** A map-reduce word count: one task per paragraph, one that merges the counts. */
export function wordCountDag(text: string, top = 15): Dag {
  const dag = new Dag(`words-${crypto.randomUUID().slice(0, 8)}`);
  const parts = text.split(/\n\s*\n/).map((p, i) => {
    dag.add({ id: `count-${i}`, fn: 'countWords', extraArgs: [p], cost: { cpu: 1 } });
    return `count-${i}`;
  });
  return dag.add({ id: 'top', fn: 'topWords', args: parts, argsAsList: true, extraArgs: [top] });
}

/** Large typed arrays from peer to peer: made on one, smoothed on the next, summed on a third. */
export function pipelineDag(mib: number, peers: readonly string[]): Dag {
  const at = (i: number) => peers[i % peers.length] as string;
  return new Dag(`pipeline-${crypto.randomUUID().slice(0, 8)}`)
    .add({ id: 'signal', fn: 'signal', extraArgs: [mib], node: at(0) })
    .add({ id: 'smooth', fn: 'smooth', args: ['signal'], extraArgs: [64], node: at(1) })
    .add({ id: 'stats', fn: 'stats', args: ['smooth'], node: at(2) });
}
