import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { SparseLearningError } from '@sparse-learning/core';
import { writeFileAtomicSync } from '@sparse-learning/checkpoint';
import type { ComparisonResult } from '../compare/compare.js';
import { formatInterval } from '../compare/statistics.js';
import type { EpochMetrics, RunResults } from '../run/metrics.js';
import { RUN_FILES, readJson, readMetrics } from '../run/run-directory.js';
import { chartJsSource } from './chart-library.js';
import { CLIENT_SCRIPT } from './client-script.js';
import { GRID_PLAN_FILE } from '../summarize/collect.js';
import { renderResultsReportHtml } from '../summarize/html.js';
import { summarizeResults } from '../summarize/write-summary.js';

/** File name of the report inside the directory it describes. */
export const REPORT_FILE = 'report.html';

/** Curves of one group (a run, or the mean over the seeds of one preset × density cell). */
export interface ReportGroup {
  readonly label: string;
  readonly runs: readonly string[];
  readonly curves: {
    readonly epoch: number[];
    readonly trainLoss: (number | null)[];
    readonly validationAccuracy: (number | null)[];
    readonly testAccuracy: (number | null)[];
  };
  readonly layers: { readonly name: string; readonly density: (number | null)[] }[];
  readonly shares: { readonly epoch: number[]; readonly layers: { readonly name: string; readonly share: number[] }[] };
}

/** Everything the page draws (embedded as JSON). */
export interface ReportData {
  readonly title: string;
  readonly groups: ReportGroup[];
  readonly comparison: {
    readonly presets: string[];
    readonly densities: number[];
    readonly cells: Record<string, { mean: number; se: number | null; ci95: readonly [number, number] | null; n: number }>;
  } | null;
  readonly table: { readonly header: string[]; readonly rows: string[][] };
}

function mean(values: readonly (number | null | undefined)[]): number | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Builds a group from the metrics of one or more runs (curves averaged epoch by epoch). */
export function groupFromRuns(label: string, runs: readonly { name: string; metrics: readonly EpochMetrics[] }[]): ReportGroup {
  const epochs = Math.max(0, ...runs.map((r) => r.metrics.length));
  const at = (pick: (m: EpochMetrics) => number | null) =>
    Array.from({ length: epochs }, (_, e) => mean(runs.map((r) => (r.metrics[e] ? pick(r.metrics[e]) : null))));
  const first = runs[0]?.metrics ?? [];
  const layerNames = first[0]?.layers.map((l) => l.name) ?? [];
  const updates = first.filter((m) => m.redistribution !== null && m.redistribution.length > 0);
  return {
    label,
    runs: runs.map((r) => r.name),
    curves: {
      epoch: Array.from({ length: epochs }, (_, e) => e + 1),
      trainLoss: at((m) => m.trainLoss),
      validationAccuracy: at((m) => m.validationAccuracy),
      testAccuracy: at((m) => m.testAccuracy),
    },
    layers: layerNames.map((name, i) => ({
      name,
      density: Array.from({ length: epochs }, (_, e) => mean(runs.map((r) => r.metrics[e]?.layers[i]?.density ?? null))),
    })),
    shares: {
      epoch: updates.map((m) => m.epoch),
      layers: layerNames.map((name, i) => ({
        name,
        share: updates.map((m) => m.redistribution?.[i]?.share ?? 0),
      })),
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** Renders the standalone page: chart.js inlined, data embedded as JSON, one canvas per chart. */
export function renderReportHtml(data: ReportData, chartJs: string = chartJsSource()): string {
  const json = JSON.stringify(data, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)).replace(/</g, '\\u003c');
  const safeChartJs = chartJs.replace(/<\/script/gi, '<\\/script');
  const table = data.table.rows.length
    ? `<table><thead><tr>${data.table.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${data.table.rows
        .map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>`
    : '';
  const comparison = data.comparison
    ? `<section><h2>Comparison</h2><div class="chart"><canvas id="comparison"></canvas></div><div class="chart"><canvas id="comparison-curves"></canvas></div></section>`
    : '';
  const groups = data.groups
    .map(
      (group, g) => `<section><h2>${escapeHtml(group.label)}</h2><p class="runs">${group.runs.map(escapeHtml).join(', ')}</p>
<div class="chart"><canvas id="learning-${g}"></canvas></div>
<div class="chart"><canvas id="density-${g}"></canvas></div>
<div class="chart"><canvas id="shares-${g}"></canvas></div></section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(data.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; } td, th { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }
th { background: #f3f3f3; } .chart { margin: 1rem 0; } .runs { color: #666; font-size: 0.85rem; }
</style>
<script>${safeChartJs}</script>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
${table}
${comparison}
${groups}
<script type="application/json" id="report-data">${json}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

function fmtPct(value: number | null | undefined, digits = 2): string {
  return typeof value === 'number' && Number.isFinite(value) ? `${(100 * value).toFixed(digits)}` : '—';
}

/** Collects the data of a single run directory. */
function runReportData(dir: string, onWarning?: (message: string) => void): ReportData {
  const metrics = readMetrics(dir, onWarning);
  const results = readJson<RunResults>(dir, RUN_FILES.results);
  const config = readJson<{ config?: { preset?: string; model?: string; density?: number } }>(dir, RUN_FILES.config);
  const label = results
    ? `${results.preset} · ${results.model} · density ${results.density} · seed ${results.seed}`
    : `${config?.config?.preset ?? 'run'} · ${config?.config?.model ?? ''}`;
  const last = metrics[metrics.length - 1];
  return {
    title: `sparse-learning run report — ${label}`,
    groups: [groupFromRuns(label, [{ name: dir, metrics }])],
    comparison: null,
    table: {
      header: ['epochs', 'test error (%)', 'test accuracy (%)', 'validation accuracy (%)', 'train loss', 'density (%)', 'backend', 'seconds'],
      rows: [
        [
          String(metrics.length),
          fmtPct(results?.testError ?? (last ? 1 - last.testAccuracy : null)),
          fmtPct(results?.testAccuracy ?? last?.testAccuracy),
          fmtPct(results?.validationAccuracy ?? last?.validationAccuracy),
          (results?.trainLoss ?? last?.trainLoss)?.toFixed(4) ?? '—',
          fmtPct(results?.finalDensity ?? last?.density, 3),
          results?.backend.name ?? '—',
          results ? results.seconds.toFixed(1) : '—',
        ],
      ],
    },
  };
}

/** Collects the data of a comparison directory (`compare.json` + its run directories). */
function comparisonReportData(dir: string, comparison: ComparisonResult, onWarning?: (message: string) => void): ReportData {
  const groups: ReportGroup[] = [];
  const cells: NonNullable<ReportData['comparison']>['cells'] = {};
  for (const row of comparison.rows) {
    cells[`${row.preset}|${row.density}`] = { mean: row.testError.mean, se: row.testError.se, ci95: row.testError.ci95, n: row.testError.n };
    const runs = comparison.runs
      .filter((r) => r.preset === row.preset && r.density === row.density && r.status === 'ok')
      .map((r) => ({ name: r.dir, metrics: readMetrics(resolve(dir, r.dir), onWarning) }));
    groups.push(groupFromRuns(`${row.preset} · density ${row.density} (${runs.length} seed${runs.length === 1 ? '' : 's'})`, runs));
  }
  return {
    title: `sparse-learning comparison — ${comparison.model} on ${comparison.dataset}`,
    groups,
    comparison: { presets: comparison.presets, densities: comparison.densities, cells },
    table: {
      header: ['preset', 'density', 'n', 'test error (%) mean', '± SE', '95 % interval'],
      rows: comparison.rows.map((row) => [
        row.preset,
        String(row.density),
        String(row.testError.n),
        fmtPct(row.testError.mean),
        fmtPct(row.testError.se),
        formatInterval(row.testError.ci95, 100),
      ]),
    },
  };
}

/**
 * Writes `report.html` into a run or comparison directory: learning curves, per-layer density over time,
 * redistribution shares, and for comparisons the test-error chart with 95 % intervals. The page is
 * self-contained (chart.js inlined) and opens offline.
 *
 * A truncated last line of a `metrics.jsonl` (a run stopped while appending) is skipped and reported to
 * `onWarning`.
 *
 * @returns the path of the written report.
 * @throws `E_DATA_MISSING` when the path is not a directory or holds neither `compare.json` nor
 *   `metrics.jsonl`; `E_DATA_CORRUPT` naming the file (and line) when one of them does not parse.
 */
export function writeReport(dir: string, onWarning?: (message: string) => void): string {
  const root = resolve(dir);
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new SparseLearningError(
      'E_DATA_MISSING',
      `'${root}' is a file; report takes a run directory (with metrics.jsonl) or a comparison directory (with compare.json)`,
      { dir: root },
    );
  }
  const comparison = readJson<ComparisonResult>(root, 'compare.json');
  if (comparison && (!Array.isArray(comparison.rows) || !Array.isArray(comparison.runs))) {
    throw new SparseLearningError('E_DATA_CORRUPT', `'${join(root, 'compare.json')}' is not a comparison record (no 'rows' and 'runs' lists)`, { path: join(root, 'compare.json') });
  }
  if (!comparison && existsSync(join(root, GRID_PLAN_FILE))) {
    // A results tree of grid runs (results/): the summary tables and the test-error-vs-density figure.
    const path = join(root, REPORT_FILE);
    writeFileAtomicSync(path, renderResultsReportHtml(summarizeResults(root)));
    return path;
  }
  let data: ReportData;
  if (comparison) data = comparisonReportData(root, comparison, onWarning);
  else if (existsSync(join(root, RUN_FILES.metrics))) data = runReportData(root, onWarning);
  else {
    const entries = existsSync(root) ? readdirSync(root).join(', ') : 'directory does not exist';
    throw new SparseLearningError(
      'E_DATA_MISSING',
      `'${relative(process.cwd(), root) || root}' is neither a run directory (metrics.jsonl) nor a comparison directory (compare.json); found: ${entries || 'nothing'}`,
      { dir: root },
    );
  }
  const path = join(root, REPORT_FILE);
  writeFileAtomicSync(path, renderReportHtml(data));
  return path;
}
