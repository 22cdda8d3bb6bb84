// The demo's task functions, served by each Web Worker of a tab's pool (tasks.worker.ts): they
// compute off the page's thread.
import { withContext } from '../src/worker.ts';
import { colour, iterations, peerColour, type View } from './mandelbrot.ts';

export { countWords, topWords } from './words.ts';

export interface Tile {
  readonly tx: number;
  readonly ty: number;
  readonly peer: string;
  /** Escape iterations, row by row. */
  readonly iter: Uint16Array;
}

/** One tile of the image, computed by whichever peer runs it. */
export const mandelbrotTile = withContext((ctx, view: View, tx: number, ty: number): Tile => {
  const iter = new Uint16Array(view.tile * view.tile);
  for (let y = 0; y < view.tile; y++)
    for (let x = 0; x < view.tile; x++)
      iter[y * view.tile + x] = iterations(view, tx * view.tile + x, ty * view.tile + y);
  return { tx, ty, peer: ctx.nodeId, iter };
});

/** The whole picture as RGBA, each tile outlined in the colour of the peer that computed it. */
export function assemble(tiles: Tile[], view: View): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(view.width * view.height * 4);
  for (const tile of tiles) {
    const outline = peerColour(tile.peer);
    for (let y = 0; y < view.tile; y++) {
      for (let x = 0; x < view.tile; x++) {
        const edge = x === 0 || y === 0 || x === view.tile - 1 || y === view.tile - 1;
        const [r, g, b] = edge ? outline : colour(view, tile.iter[y * view.tile + x] as number);
        const at = ((tile.ty * view.tile + y) * view.width + tile.tx * view.tile + x) * 4;
        rgba[at] = r;
        rgba[at + 1] = g;
        rgba[at + 2] = b;
        rgba[at + 3] = 255;
      }
    }
  }
  return rgba;
}

/** A signal of `mib` MiB of float32 samples: a sum of sines, deterministic. */
export function signal(mib: number): Float32Array {
  const out = new Float32Array((mib * 1024 * 1024) / 4);
  for (let i = 0; i < out.length; i++) out[i] = Math.sin(i / 50) + 0.5 * Math.sin(i / 7);
  return out;
}

/** A moving average over `width` samples. */
export function smooth(input: Float32Array, width: number): Float32Array {
  const out = new Float32Array(input.length);
  let acc = 0;
  for (let i = 0; i < input.length; i++) {
    acc += input[i] as number;
    if (i >= width) acc -= input[i - width] as number;
    out[i] = acc / Math.min(i + 1, width);
  }
  return out;
}

/** Mean, min and max of the samples. */
export function stats(input: Float32Array): { mean: number; min: number; max: number; n: number } {
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const x of input) {
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return { mean: sum / input.length, min, max, n: input.length };
}

/**
 * The streaming sample's `init`: a lookup table built once per tab that hosts the stage (a
 * model's weights, say), handed to each item as `ctx.state`.
 */
export const buildTable = withContext((ctx) => {
  const table = new Float32Array(4096);
  for (let i = 0; i < table.length; i++) table[i] = Math.sin(i / 64) * Math.cos(i / 16);
  return { table, builtBy: ctx.nodeId };
});

export interface Scored {
  readonly x: number;
  readonly score: number;
}

/** Scores an item with the table its stage's `init` built on this tab. */
export const scoreItem = withContext((ctx, x: number): Scored => {
  const { table } = ctx.state as { table: Float32Array };
  return { x, score: table[(x * 31) % table.length] as number };
});

/** Labels a scored item. */
export function labelItem(item: Scored): Scored & { label: string } {
  return { ...item, label: item.score >= 0 ? 'up' : 'down' };
}

/** Checks a labelled item, as a last stage would store or send it. */
export function checkItem(item: Scored & { label: string }): string {
  return `${item.x}:${item.label}`;
}
