import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { isSparseLearningError } from '@sparse-learning/core';
import { describe, expect, it } from 'vitest';
import { chartJsSource } from './chart-library.js';
import { writeReport } from './report.js';
import { writeRun } from './test-fixtures.js';

/** Runs the page's own script (not chart.js) against a stub DOM and a stub `Chart`, returning the chart configs. */
function drawWithStubs(html: string): { type: string; options: { plugins: { title: { text: string } } }; data: { datasets: unknown[] } }[] {
  const scripts = [...html.matchAll(/<script(?: [^>]*)?>([\s\S]*?)<\/script>/g)];
  const data = html.match(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/)?.[1] ?? '';
  const client = scripts[scripts.length - 1][1];
  const charts: unknown[] = [];
  const canvases = new Set([...html.matchAll(/<canvas id="([^"]+)"/g)].map((m) => m[1]));
  const window: Record<string, unknown> = {};
  const context = {
    window,
    document: {
      getElementById: (id: string) =>
        id === 'report-data' ? { textContent: data } : canvases.has(id) ? { getContext: () => ({ canvas: id }) } : null,
    },
    Chart: class {
      constructor(_ctx: unknown, config: unknown) {
        charts.push(config);
      }
    },
    JSON,
    parseInt,
  };
  vm.runInNewContext(client, context);
  return charts as never;
}

describe('report', () => {
  it('inlines chart.js (UMD) and draws learning curves, per-layer density and redistribution shares for a run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-report-'));
    writeRun(dir, 0.0153);
    const path = writeReport(dir);
    expect(path).toBe(join(dir, 'report.html'));
    const html = readFileSync(path, 'utf8');
    expect(html).toContain('Chart.js v4.6.1');
    expect(html).not.toMatch(/<script src=/); // self-contained
    for (const id of ['learning-0', 'density-0', 'shares-0']) expect(html).toContain(`<canvas id="${id}">`);
    expect(html).toContain('1.53'); // the test error in the summary table
    const charts = drawWithStubs(html);
    expect(charts.map((c) => c.type)).toEqual(['line', 'line', 'bar']);
    expect(charts[0].options.plugins.title.text).toContain('Learning curves');
    expect(charts[1].data.datasets).toHaveLength(2); // one line per layer
    expect(charts[2].options.plugins.title.text).toContain('Redistribution shares');
    // the inline library parses as JavaScript
    expect(() => new vm.Script(chartJsSource())).not.toThrow();
  });

  it('draws the comparison chart with 95 % intervals for a comparison directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-report-cmp-'));
    writeRun(join(dir, 'runs', 'a'), 0.02);
    writeRun(join(dir, 'runs', 'b'), 0.03);
    const summary = { n: 2, mean: 0.025, std: 0.00707, se: 0.005, ci95: [0.0152, 0.0348] };
    writeFileSync(
      join(dir, 'compare.json'),
      JSON.stringify({
        model: 'lenet300-100',
        dataset: 'mnist',
        presets: ['sparse-momentum'],
        densities: [0.05],
        seeds: [17, 18],
        rows: [{ preset: 'sparse-momentum', density: 0.05, testError: summary, testAccuracy: summary, seconds: summary, failed: 0 }],
        runs: [
          { preset: 'sparse-momentum', density: 0.05, seed: 17, dir: 'runs/a', status: 'ok' },
          { preset: 'sparse-momentum', density: 0.05, seed: 18, dir: 'runs/b', status: 'ok' },
        ],
      }),
    );
    const html = readFileSync(writeReport(dir), 'utf8');
    expect(html).toContain('<canvas id="comparison">');
    const charts = drawWithStubs(html);
    expect(charts).toHaveLength(5);
    const comparison = charts.find((c) => c.options.plugins.title.text.startsWith('Test error by preset'));
    expect(comparison?.data.datasets).toHaveLength(2); // mean bars + 95 % interval bars
    expect(html).toContain('[1.52, 3.48]');
  });

  it('a cell with one run shows no SE and no interval (a dash and no interval bar, not ± 0)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-report-n1-'));
    writeRun(join(dir, 'runs', 'a'), 0.02);
    const single = { n: 1, mean: 0.02, std: null, se: null, ci95: null };
    writeFileSync(
      join(dir, 'compare.json'),
      JSON.stringify({
        model: 'lenet300-100',
        dataset: 'mnist',
        presets: ['sparse-momentum'],
        densities: [0.05],
        seeds: [17],
        rows: [{ preset: 'sparse-momentum', density: 0.05, testError: single, testAccuracy: single, seconds: single, failed: 0 }],
        runs: [{ preset: 'sparse-momentum', density: 0.05, seed: 17, dir: 'runs/a', status: 'ok' }],
      }),
    );
    const html = readFileSync(writeReport(dir), 'utf8');
    const comparison = drawWithStubs(html).find((c) => c.options.plugins.title.text.startsWith('Test error by preset'));
    const [means, intervals] = (comparison?.data.datasets ?? []) as { data: unknown[] }[];
    expect(means.data).toEqual([2]); // mean bar, in %
    expect(intervals.data).toEqual([null]); // no interval bar
    expect(html).toContain('"se":null');
    expect(html).not.toContain('[2.00, 2.00]');
  });

  it('E_DATA_MISSING for a directory that is neither a run nor a comparison', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-report-empty-'));
    try {
      writeReport(dir);
      throw new Error('expected E_DATA_MISSING');
    } catch (error) {
      expect(isSparseLearningError(error, 'E_DATA_MISSING')).toBe(true);
    }
  });
});
