// The Mandelbrot set, shared by the demo's tasks and by the test that checks its pixels.

export interface View {
  readonly width: number;
  readonly height: number;
  readonly tile: number;
  readonly maxIter: number;
}

export const VIEW: View = { width: 640, height: 400, tile: 80, maxIter: 400 };

/** Escape iterations of pixel (px, py) of the view (maxIter: inside the set). */
export function iterations(view: View, px: number, py: number): number {
  const x0 = -2.2 + (3.2 * px) / view.width;
  const y0 = -1.2 + (2.4 * py) / view.height;
  let x = 0;
  let y = 0;
  let i = 0;
  while (i < view.maxIter && x * x + y * y <= 4) {
    const t = x * x - y * y + x0;
    y = 2 * x * y + y0;
    x = t;
    i++;
  }
  return i;
}

/** The colour of an iteration count: black inside the set, bands outside. */
export function colour(view: View, iter: number): [number, number, number] {
  if (iter >= view.maxIter) return [0, 0, 0];
  return [(iter * 9) % 256, (iter * 5 + 40) % 256, (iter * 13 + 90) % 256];
}

/** A stable colour for a peer id, for outlining the tiles it computed. */
export function peerColour(id: string): [number, number, number] {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  const hue = h % 360;
  const f = (n: number) => {
    const k = (n + hue / 60) % 6;
    return Math.round(255 * (1 - Math.max(0, Math.min(k, 4 - k, 1)) * 0.85));
  };
  return [f(5), f(3), f(1)];
}
