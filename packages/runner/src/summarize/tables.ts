import { summarize as summarizeValues } from '../compare/statistics.js';
import type { CollectedRuns, FinishedRun } from './collect.js';
import { LABEL_NAMES, MODEL_NAMES, PUBLISHED, cellKey, type PublishedValue } from './published.js';

/** One cell of the summary: a model, a label (preset or ablation) and a density, over its seeds. */
export interface SummaryCell {
  readonly model: string;
  readonly label: string;
  readonly density: number;
  /** Whether the pre-registered plan lists this cell. */
  readonly planned: boolean;
  /** Seeds the plan lists for the cell (empty when not planned). */
  readonly plannedSeeds: readonly number[];
  /** Finished runs, by seed. */
  readonly runs: readonly { readonly seed: number; readonly testError: number; readonly path: string }[];
  /** Planned seeds without a finished run (running, stopped or not started). */
  readonly pendingSeeds: readonly number[];
  readonly n: number;
  /** Mean test error in % (null when n = 0). */
  readonly mean: number | null;
  /** Standard error `std(ddof = 1) / √n` in percentage points; null when n < 2. */
  readonly se: number | null;
  readonly published: readonly PublishedValue[];
}

/** The whole summary (what `summarize --json` prints). */
export interface ResultsSummary {
  readonly cells: readonly SummaryCell[];
  readonly plannedRuns: number;
  readonly finishedPlannedRuns: number;
  /** Run directories without results.json (not counted). */
  readonly unfinished: readonly string[];
}

const LABEL_ORDER = Object.keys(LABEL_NAMES);
const MODEL_ORDER = Object.keys(MODEL_NAMES);
const orderOf = (order: readonly string[], value: string) => {
  const i = order.indexOf(value);
  return i < 0 ? order.length : i;
};

/**
 * Groups runs into cells (model × label × density), one value per seed, and summarises each: n, mean, SE
 * (std with ddof = 1 over √n, as the paper reports; none for n = 1) with the published value beside. Every
 * cell of the plan appears, with its pending seeds, even when no run has finished (never silently absent);
 * cells found on disk but not in the plan are added and marked unplanned.
 */
export function buildSummary(collected: CollectedRuns): ResultsSummary {
  const cells = new Map<string, { model: string; label: string; density: number; plannedSeeds: number[]; runs: FinishedRun[] }>();
  const cellFor = (model: string, label: string, density: number) => {
    const key = cellKey(model, label, density);
    let cell = cells.get(key);
    if (!cell) {
      cell = { model, label, density, plannedSeeds: [], runs: [] };
      cells.set(key, cell);
    }
    return cell;
  };
  for (const planCell of collected.plan ?? []) {
    for (const density of planCell.densities) cellFor(planCell.model, planCell.label, density).plannedSeeds.push(...planCell.seeds);
  }
  for (const run of collected.finished) cellFor(run.model, run.label, run.density).runs.push(run);
  const out: SummaryCell[] = [...cells.values()]
    .sort(
      (a, b) =>
        orderOf(MODEL_ORDER, a.model) - orderOf(MODEL_ORDER, b.model) ||
        a.model.localeCompare(b.model) ||
        orderOf(LABEL_ORDER, a.label) - orderOf(LABEL_ORDER, b.label) ||
        a.label.localeCompare(b.label) ||
        a.density - b.density,
    )
    .map((cell) => {
      const runs = [...cell.runs].sort((a, b) => a.seed - b.seed).map((r) => ({ seed: r.seed, testError: r.testError, path: r.path }));
      const finishedSeeds = new Set(runs.map((r) => r.seed));
      const s = summarizeValues(runs.map((r) => r.testError));
      return {
        model: cell.model,
        label: cell.label,
        density: cell.density,
        planned: cell.plannedSeeds.length > 0,
        plannedSeeds: [...cell.plannedSeeds].sort((a, b) => a - b),
        runs,
        pendingSeeds: cell.plannedSeeds.filter((seed) => !finishedSeeds.has(seed)).sort((a, b) => a - b),
        n: s.n,
        mean: s.n > 0 ? s.mean : null,
        // n = 1 has no sample standard deviation: no SE (whatever the statistics helper returns for it).
        se: s.n > 1 && typeof s.se === 'number' ? s.se : null,
        published: PUBLISHED[cellKey(cell.model, cell.label, cell.density)] ?? [],
      };
    });
  const plannedRuns = out.reduce((acc, c) => acc + c.plannedSeeds.length, 0);
  const finishedPlannedRuns = out.reduce((acc, c) => acc + c.runs.filter((r) => c.plannedSeeds.includes(r.seed)).length, 0);
  return { cells: out, plannedRuns, finishedPlannedRuns, unfinished: collected.unfinished.map((u) => u.path).sort() };
}

/** `0.05` → `5`, `0.015` → `1.5`, `1` → `100` (density in %, no float noise). */
export const densityPercent = (density: number): string => String(Number((density * 100).toFixed(6)));

const fixed = (value: number | null | undefined, digits = 2) => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '—');

/** A published value as `1.53 ± 0.02 (source)`. */
export function formatPublished(p: PublishedValue): string {
  return `${fixed(p.error)}${p.se === undefined ? '' : ` ± ${fixed(p.se)}`} (${p.source})`;
}

/**
 * The summary as Markdown: one table per model (method, density, n, mean ± SE, per-seed values, published),
 * then the run count, pending cells and unfinished run directories. Deterministic: the same runs give the
 * same text, so the committed tables can be checked against the committed runs.
 */
export function renderMarkdown(summary: ResultsSummary): string {
  const lines: string[] = [];
  const models = [...new Set(summary.cells.map((c) => c.model))];
  for (const model of models) {
    lines.push(`#### ${MODEL_NAMES[model] ?? model}`, '');
    lines.push('| method | density | n | test error (%) | ± SE | per seed (%) | published (%) |');
    lines.push('|---|---:|---:|---:|---:|---|---|');
    for (const c of summary.cells.filter((x) => x.model === model)) {
      const perSeed = c.runs.map((r) => `s${r.seed}: ${fixed(r.testError)}`).join(', ');
      const pending = c.pendingSeeds.length > 0 ? `${perSeed ? '; ' : ''}pending ${c.pendingSeeds.map((s) => `s${s}`).join(', ')}` : '';
      const method = `${LABEL_NAMES[c.label] ?? c.label}${c.planned ? '' : ' (not in the plan)'}`;
      lines.push(
        `| ${method} | ${densityPercent(c.density)} % | ${c.n} | ${c.n > 0 ? `**${fixed(c.mean)}**` : 'pending'} | ${fixed(c.se)} | ${perSeed}${pending} | ${c.published.map(formatPublished).join('; ') || '—'} |`,
      );
    }
    lines.push('');
  }
  const pendingCells = summary.cells.filter((c) => c.planned && c.n === 0);
  lines.push(`${summary.finishedPlannedRuns} of ${summary.plannedRuns} pre-registered runs finished.`);
  if (pendingCells.length > 0) {
    lines.push(`Cells with no finished run yet: ${pendingCells.map((c) => `${MODEL_NAMES[c.model] ?? c.model} ${LABEL_NAMES[c.label] ?? c.label} ${densityPercent(c.density)} %`).join(', ')}.`);
  }
  if (summary.unfinished.length > 0) lines.push(`Run directories without results.json (not counted): ${summary.unfinished.join(', ')}.`);
  return `${lines.join('\n')}\n`;
}
