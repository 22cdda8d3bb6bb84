// A small line chart as SVG, written by the bench beside its figures: no dependency, readable
// on GitHub and in any browser.

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface Chart {
  readonly title: string;
  readonly x: string;
  readonly y: string;
  readonly series: readonly Series[];
  /** Logarithmic x axis (sizes 10, 100, 1,000). */
  readonly logX?: boolean;
}

const W = 560;
const H = 320;
const PAD = { left: 64, right: 150, top: 36, bottom: 48 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

const fmt = (n: number) =>
  n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(1) : n.toFixed(2);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function lineChart(chart: Chart): string {
  const xs = chart.series.flatMap((s) => s.points.map(([x]) => x));
  const ys = chart.series.flatMap((s) => s.points.map(([, y]) => y));
  const tx = (x: number) => (chart.logX ? Math.log10(x) : x);
  const [x0, x1] = [Math.min(...xs.map(tx)), Math.max(...xs.map(tx))];
  const y1 = Math.max(...ys) * 1.1 || 1;
  const px = (x: number) => PAD.left + ((tx(x) - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
  const py = (y: number) => H - PAD.bottom - (y / y1) * (H - PAD.top - PAD.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${esc(chart.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - 60}" y="20" font-size="14" text-anchor="middle">${esc(chart.title)}</text>`,
    `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="black"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="black"/>`,
    `<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 10}" text-anchor="middle">${esc(chart.x)}</text>`,
    `<text transform="translate(16 ${(H - PAD.bottom + PAD.top) / 2}) rotate(-90)" text-anchor="middle">${esc(chart.y)}</text>`,
  ];
  for (const x of [...new Set(xs)]) {
    out.push(
      `<text x="${px(x)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${x.toLocaleString('en-US')}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const y = (y1 / 4) * i;
    out.push(
      `<text x="${PAD.left - 6}" y="${py(y) + 4}" text-anchor="end">${fmt(y)}</text>`,
      `<line x1="${PAD.left}" y1="${py(y)}" x2="${W - PAD.right}" y2="${py(y)}" stroke="#ddd"/>`,
    );
  }
  chart.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const path = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const [x, y] of s.points)
      out.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3" fill="${colour}"/>`);
    const ly = PAD.top + 16 + i * 18;
    out.push(
      `<rect x="${W - PAD.right + 12}" y="${ly - 9}" width="12" height="3" fill="${colour}"/>`,
      `<text x="${W - PAD.right + 30}" y="${ly}">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
