// A live SVG picture of one run's DAG: tasks in columns by depth, coloured by state and
// labelled with the peer that ran them; an edge whose value crossed peers is drawn bold and
// labelled with the bytes moved.
import type { Dag, TaskState } from '../src/index.ts';

const SVG = 'http://www.w3.org/2000/svg';
const ROWS = 10;
const DX = 26;
const DY = 22;

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

export const short = (id: string | undefined) => (id === undefined ? '' : id.slice(0, 4));

export class DagView {
  readonly svg: SVGSVGElement;
  readonly #nodes = new Map<string, { circle: SVGCircleElement; label: SVGTextElement }>();
  readonly #edges = new Map<string, { line: SVGLineElement; x: number; y: number }>();

  constructor(dag: Dag) {
    const plan = dag.validate();
    const depth = new Map<string, number>();
    for (const id of plan.scheduled)
      depth.set(id, Math.max(-1, ...(plan.deps.get(id) ?? []).map((d) => depth.get(d) ?? 0)) + 1);
    const layers: string[][] = [];
    for (const id of plan.scheduled) {
      const d = depth.get(id) ?? 0;
      layers[d] = [...(layers[d] ?? []), id];
    }
    const at = new Map<string, { x: number; y: number }>();
    let x = 16;
    let height = 0;
    for (const layer of layers) {
      const rows = Math.min(ROWS, layer.length);
      layer.forEach((id, i) => {
        at.set(id, { x: x + Math.floor(i / ROWS) * DX, y: 16 + (i % ROWS) * DY });
      });
      x += Math.ceil(layer.length / ROWS) * DX + 40;
      height = Math.max(height, rows * DY + 16);
    }
    this.svg = el('svg', { viewBox: `0 0 ${x} ${height + 8}`, role: 'img' });
    this.svg.setAttribute('aria-label', `DAG ${dag.id}: ${plan.scheduled.length} tasks`);
    for (const id of plan.scheduled) {
      const to = at.get(id) as { x: number; y: number };
      for (const dep of plan.deps.get(id) ?? []) {
        const from = at.get(dep) as { x: number; y: number };
        const line = el('line', { x1: from.x, y1: from.y, x2: to.x, y2: to.y, class: 'edge' });
        this.svg.append(line);
        this.#edges.set(`${dep}>${id}`, { line, x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 });
      }
    }
    for (const id of plan.scheduled) {
      const p = at.get(id) as { x: number; y: number };
      const circle = el('circle', { cx: p.x, cy: p.y, r: 7, class: 'task waiting' });
      const title = el('title', {});
      title.textContent = id;
      circle.append(title);
      const label = el('text', { x: p.x, y: p.y + 15, class: 'peer-label' });
      this.svg.append(circle, label);
      this.#nodes.set(id, { circle, label });
    }
  }

  task(id: string, state: TaskState, peer?: string): void {
    const node = this.#nodes.get(id);
    if (node === undefined) return;
    node.circle.setAttribute('class', `task ${state}`);
    if (peer !== undefined) node.label.textContent = short(peer);
  }

  /** The value of `from` crossed peers on its way to `to`. */
  crossed(from: string, to: string, bytes: number): void {
    const edge = this.#edges.get(`${from}>${to}`);
    if (edge === undefined) return;
    edge.line.setAttribute('class', 'edge crossed');
    const text = el('text', { x: edge.x, y: edge.y - 3, class: 'bytes' });
    text.textContent = formatBytes(bytes);
    this.svg.append(text);
  }
}

export function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${n} B`;
}
