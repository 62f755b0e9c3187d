import { LABEL_NAMES, MODEL_NAMES, PUBLISHED, type PublishedValue } from './published.js';
import type { ResultsSummary, SummaryCell } from './tables.js';

/** The committed figure's file name, next to the tables in the results directory. */
export const FIGURE_FILE = 'mnist-error-vs-density.svg';

const COLORS: Readonly<Record<string, string>> = {
  'sparse-momentum': '#1f77b4',
  set: '#ff7f0e',
  'deep-r': '#2ca02c',
  dsr: '#d62728',
  static: '#7f7f7f',
  rigl: '#9467bd',
  'sm-random-growth': '#17becf',
  'sm-no-redistribution': '#bcbd22',
  'sm-sparse-execution': '#e377c2',
  dense: '#000000',
};
const colorOf = (label: string) => COLORS[label] ?? '#8c564b';

const PANEL = { width: 470, height: 360, left: 58, right: 12, top: 34, bottom: 48 };
const X_TICKS = [1, 2, 5, 10, 20];
const X_RANGE: readonly [number, number] = [0.8, 25];

const n2 = (v: number) => v.toFixed(2);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Point {
  readonly x: number;
  readonly y: number;
  readonly se: number | null;
}

/** A y-axis step that gives 4–8 ticks. */
function yStep(span: number): number {
  for (const step of [0.1, 0.2, 0.25, 0.5, 1, 2, 5]) if (span / step <= 8) return step;
  return 10;
}

/** One panel (a model): our series with error bars, published values hollow, dense as horizontal lines. */
function panel(model: string, cells: readonly SummaryCell[], ox: number): string {
  const ours = cells.filter((c) => c.model === model && c.n > 0);
  const published = Object.entries(PUBLISHED)
    .filter(([key]) => key.startsWith(`${model}/`))
    .map(([key, values]) => {
      const [, label, density] = key.split('/');
      return { label, density: Number(density), value: values[0] as PublishedValue };
    });
  const ys: number[] = [];
  for (const c of ours) ys.push(c.mean! - (c.se ?? 0), c.mean! + (c.se ?? 0));
  for (const p of published) ys.push(p.value.error);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const step = yStep(Math.max(hi - lo, 0.2) * 1.15);
  const yMin = Math.max(0, Math.floor((lo - step / 2) / step) * step);
  const yMax = Math.ceil((hi + step / 2) / step) * step;
  const { width, height, left, right, top, bottom } = PANEL;
  const pw = width - left - right;
  const ph = height - top - bottom;
  const sx = (density: number) => ox + left + ((Math.log10(density * 100) - Math.log10(X_RANGE[0])) / (Math.log10(X_RANGE[1]) - Math.log10(X_RANGE[0]))) * pw;
  const sy = (error: number) => top + (1 - (error - yMin) / (yMax - yMin)) * ph;
  const out: string[] = [];
  out.push(`<text x="${n2(ox + left + pw / 2)}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(MODEL_NAMES[model] ?? model)}, MNIST</text>`);
  out.push(`<rect x="${n2(ox + left)}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (let v = yMin, i = 0; v <= yMax + 1e-9 && i < 50; v += step, i++) {
    const y = sy(v);
    out.push(`<line x1="${n2(ox + left)}" y1="${n2(y)}" x2="${n2(ox + left + pw)}" y2="${n2(y)}" stroke="#eee"/>`);
    out.push(`<text x="${n2(ox + left - 6)}" y="${n2(y + 4)}" text-anchor="end" font-size="11">${v.toFixed(step < 0.25 ? 1 : 2)}</text>`);
  }
  for (const t of X_TICKS) {
    const x = sx(t / 100);
    out.push(`<line x1="${n2(x)}" y1="${top}" x2="${n2(x)}" y2="${top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${n2(x)}" y="${top + ph + 16}" text-anchor="middle" font-size="11">${t}</text>`);
  }
  out.push(`<text x="${n2(ox + left + pw / 2)}" y="${height - 10}" text-anchor="middle" font-size="12">density (% of weights, log scale)</text>`);
  out.push(`<text transform="translate(${n2(ox + 16)} ${n2(top + ph / 2)}) rotate(-90)" text-anchor="middle" font-size="12">test error (%)</text>`);
  // dense: horizontal lines across the panel (ours solid, published dashed)
  for (const c of ours.filter((x) => x.label === 'dense')) {
    out.push(`<line x1="${n2(ox + left)}" y1="${n2(sy(c.mean!))}" x2="${n2(ox + left + pw)}" y2="${n2(sy(c.mean!))}" stroke="#000" stroke-width="1"/>`);
  }
  for (const p of published.filter((x) => x.label === 'dense')) {
    out.push(`<line x1="${n2(ox + left)}" y1="${n2(sy(p.value.error))}" x2="${n2(ox + left + pw)}" y2="${n2(sy(p.value.error))}" stroke="#000" stroke-dasharray="5 4" stroke-width="1"/>`);
  }
  // sparse series: a small horizontal offset per series keeps error bars at the same density apart
  const labels = [...new Set([...ours.map((c) => c.label), ...published.map((p) => p.label)])].filter((l) => l !== 'dense');
  labels.forEach((label, i) => {
    const color = colorOf(label);
    const dx = (i - (labels.length - 1) / 2) * 4;
    const pts: Point[] = ours.filter((c) => c.label === label).map((c) => ({ x: sx(c.density) + dx, y: c.mean!, se: c.se }));
    const pub = published.filter((p) => p.label === label).sort((a, b) => a.density - b.density);
    if (pub.length > 1) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-dasharray="5 4" stroke-width="1.2" points="${pub.map((p) => `${n2(sx(p.density) + dx)},${n2(sy(p.value.error))}`).join(' ')}"/>`);
    }
    for (const p of pub) out.push(`<circle cx="${n2(sx(p.density) + dx)}" cy="${n2(sy(p.value.error))}" r="4" fill="#fff" stroke="${color}" stroke-width="1.5"/>`);
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${pts.map((p) => `${n2(p.x)},${n2(sy(p.y))}`).join(' ')}"/>`);
    for (const p of pts) {
      if (p.se !== null) {
        const y1 = sy(p.y - p.se);
        const y2 = sy(p.y + p.se);
        out.push(`<path d="M${n2(p.x)} ${n2(y1)}V${n2(y2)}M${n2(p.x - 3)} ${n2(y1)}H${n2(p.x + 3)}M${n2(p.x - 3)} ${n2(y2)}H${n2(p.x + 3)}" stroke="${color}" stroke-width="1.2" fill="none"/>`);
      }
      out.push(`<circle cx="${n2(p.x)}" cy="${n2(sy(p.y))}" r="3.5" fill="${color}"/>`);
    }
  });
  return out.join('\n');
}

/**
 * The paper's MNIST figure from the committed runs: test error against density (log scale) for Sparse
 * Momentum and the baselines, one panel per model, filled markers with ± SE bars for this project's means,
 * hollow markers and dashed lines for the published values, dense as horizontal lines. A hand-written SVG
 * (no plotting dependency); numbers are written with two decimals, so the same runs give the same file.
 */
export function renderFigure(summary: ResultsSummary): string {
  const models = [...new Set(summary.cells.map((c) => c.model))].filter((m) => m in MODEL_NAMES);
  const labels = [...new Set(summary.cells.filter((c) => models.includes(c.model)).map((c) => c.label))];
  const legendHeight = 22 + Math.ceil(labels.length / 4) * 18 + 18;
  const width = Math.max(1, models.length) * PANEL.width;
  const height = PANEL.height + legendHeight;
  const parts = models.map((m, i) => panel(m, summary.cells, i * PANEL.width));
  const legend: string[] = [];
  labels.forEach((label, i) => {
    const x = 20 + (i % 4) * 230;
    const y = PANEL.height + 18 + Math.floor(i / 4) * 18;
    const color = colorOf(label);
    legend.push(
      label === 'dense'
        ? `<line x1="${x}" y1="${y - 4}" x2="${x + 18}" y2="${y - 4}" stroke="#000"/>`
        : `<circle cx="${x + 9}" cy="${y - 4}" r="4" fill="${color}"/>`,
    );
    legend.push(`<text x="${x + 24}" y="${y}" font-size="12">${esc(LABEL_NAMES[label] ?? label)}</text>`);
  });
  legend.push(
    `<text x="20" y="${height - 8}" font-size="11" fill="#444">filled, solid: this project (mean ± SE over seeds); hollow, dashed: published; lines across: dense</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<rect width="${width}" height="${height}" fill="#fff"/>
${parts.join('\n')}
${legend.join('\n')}
</svg>
`;
}
