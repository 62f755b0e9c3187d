import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '@sparse-learning/checkpoint';
import { collectRuns, type CollectOptions } from './collect.js';
import { FIGURE_FILE, renderFigure } from './figure.js';
import { replaceBlock } from './readme-block.js';
import { buildSummary, renderMarkdown, type ResultsSummary } from './tables.js';

/** The README of a results directory that holds the generated tables. */
export const RESULTS_README = 'README.md';

/** Everything `summarize` derives from a results directory. */
export interface SummaryOutputs {
  readonly summary: ResultsSummary;
  readonly markdown: string;
  readonly svg: string;
}

/** Reads `dir` and renders the summary as data, Markdown and SVG (no file is written). */
export function summarizeResults(dir: string, options: CollectOptions = {}): SummaryOutputs {
  const summary = buildSummary(collectRuns(dir, options));
  return { summary, markdown: renderMarkdown(summary), svg: renderFigure(summary) };
}

/** The JSON `summarize --json` prints (stable key order, no timestamps). */
export const summaryJson = (summary: ResultsSummary): string => `${JSON.stringify(summary, null, 2)}\n`;

/**
 * Regenerates the committed outputs of a results directory, atomically: the tables between the markers of
 * `<dir>/README.md` (the rest of the file is kept; created if missing) and `<dir>/mnist-error-vs-density.svg`.
 *
 * @returns the paths written.
 */
export function writeSummary(dir: string, outputs: SummaryOutputs): { readme: string; figure: string } {
  const readme = join(dir, RESULTS_README);
  const current = existsSync(readme) ? readFileSync(readme, 'utf8') : '# Results\n';
  writeFileAtomicSync(readme, replaceBlock(current, outputs.markdown, readme));
  const figure = join(dir, FIGURE_FILE);
  writeFileAtomicSync(figure, outputs.svg);
  return { readme, figure };
}
