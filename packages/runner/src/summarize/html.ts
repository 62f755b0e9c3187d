import { LABEL_NAMES, MODEL_NAMES } from './published.js';
import { densityPercent, formatPublished } from './tables.js';
import type { SummaryOutputs } from './write-summary.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fixed = (v: number | null) => (v === null ? '—' : v.toFixed(2));

/**
 * The HTML report of a results directory (what `sparse-learning report results/` writes): the summary tables
 * and the error-vs-density figure inlined, self-contained (no script, opens offline). The same data as
 * `summarize`, so the page and the committed README never disagree.
 */
export function renderResultsReportHtml({ summary, svg }: SummaryOutputs): string {
  const models = [...new Set(summary.cells.map((c) => c.model))];
  const tables = models
    .map((model) => {
      const rows = summary.cells
        .filter((c) => c.model === model)
        .map((c) => {
          const perSeed = c.runs.map((r) => `s${r.seed}: ${r.testError.toFixed(2)}`).join(', ');
          const pending = c.pendingSeeds.length ? `${perSeed ? '; ' : ''}pending ${c.pendingSeeds.map((s) => `s${s}`).join(', ')}` : '';
          const cells = [
            `${LABEL_NAMES[c.label] ?? c.label}${c.planned ? '' : ' (not in the plan)'}`,
            `${densityPercent(c.density)} %`,
            String(c.n),
            c.n > 0 ? fixed(c.mean) : 'pending',
            fixed(c.se),
            perSeed + pending,
            c.published.map(formatPublished).join('; ') || '—',
          ];
          return `<tr>${cells.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`;
        })
        .join('\n');
      return `<h2>${esc(MODEL_NAMES[model] ?? model)}</h2>
<table><thead><tr><th>method</th><th>density</th><th>n</th><th>test error (%)</th><th>± SE</th><th>per seed (%)</th><th>published (%)</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>MNIST results: test error vs density</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; } td, th { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }
td:first-child, td:nth-child(6), td:nth-child(7) { text-align: left; } th { background: #f3f3f3; }
</style>
</head>
<body>
<h1>MNIST: test error vs density</h1>
<p>${esc(`${summary.finishedPlannedRuns} of ${summary.plannedRuns} pre-registered runs finished.`)} Mean ± SE (std with ddof = 1 over √n) over seeds; n = 1 has no SE; pending cells have no finished run.</p>
<figure>${svg.replace(/^<\?xml[^>]*>\s*/, '')}</figure>
${tables}
</body>
</html>
`;
}
