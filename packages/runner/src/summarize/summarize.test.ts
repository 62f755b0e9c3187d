import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarizeCommand } from '../cli/summarize-command.js';
import { writeReport } from '../report/report.js';
import { collectRuns } from './collect.js';
import { BEGIN_MARKER, END_MARKER, extractBlock, replaceBlock } from './readme-block.js';
import { buildSummary, densityPercent, renderMarkdown } from './tables.js';
import { summarizeResults, writeSummary } from './write-summary.js';

/** A results tree in a temp dir: `runs` = [model, label, density, seed, testError fraction | null (unfinished)]. */
function fixture(runs: [string, string, number, number, number | null][], plan?: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'sl-summarize-'));
  if (plan) writeFileSync(join(dir, 'grid-plan.json'), JSON.stringify(plan));
  for (const [model, label, density, seed, testError] of runs) {
    const run = join(dir, model, label, `d${density}`, `s${seed}`);
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'config.json'), '{}');
    if (testError !== null) writeFileSync(join(run, 'results.json'), JSON.stringify({ testError, epochs: 100 }));
  }
  return dir;
}

const io = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, cwd: '/' } };
};

const plan = {
  cells: [
    { model: 'lenet300-100', label: 'sparse-momentum', densities: [0.01, 0.05], seeds: [17, 18, 19] },
    { model: 'lenet300-100', label: 'set', densities: [0.05], seeds: [17, 18] },
    { model: 'lenet5', label: 'dense', densities: [1], seeds: [17] },
  ],
};

describe('summarize: cells, mean ± SE, pending, published', () => {
  // SM 5 %: 1.5, 1.6, 1.7 % → mean 1.6, std = sqrt(((−0.1)² + 0 + 0.1²)/2) = 0.1, SE = 0.1/√3 = 0.057735.
  // SM 1 %: one finished seed (2.5 %) and one unfinished directory; SET 5 %: nothing yet.
  const runs: [string, string, number, number, number | null][] = [
    ['lenet300-100', 'sparse-momentum', 0.05, 17, 0.015],
    ['lenet300-100', 'sparse-momentum', 0.05, 18, 0.016],
    ['lenet300-100', 'sparse-momentum', 0.05, 19, 0.017],
    ['lenet300-100', 'sparse-momentum', 0.01, 18, 0.025],
    ['lenet300-100', 'sparse-momentum', 0.01, 19, null],
    ['lenet300-100', 'rigl', 0.02, 17, 0.02],
  ];

  it('groups seeds into cells with hand-computed mean and SE; n = 1 has no SE; unfinished runs never count', () => {
    const summary = buildSummary(collectRuns(fixture(runs, plan)));
    const cell = (label: string, density: number) => summary.cells.find((c) => c.label === label && c.density === density)!;
    const sm5 = cell('sparse-momentum', 0.05);
    expect(sm5.n).toBe(3);
    expect(sm5.mean).toBeCloseTo(1.6, 12);
    expect(sm5.se).toBeCloseTo(0.1 / Math.sqrt(3), 12);
    expect(sm5.runs.map((r) => r.seed)).toEqual([17, 18, 19]);
    expect(sm5.pendingSeeds).toEqual([]);
    expect(sm5.published[0]).toEqual({ error: 1.53, se: 0.02, source: 'paper, compression data' });
    expect(sm5.published[1].error).toBe(1.47); // 100 − 98.53
    const sm1 = cell('sparse-momentum', 0.01);
    expect(sm1.n).toBe(1);
    expect(sm1.mean).toBeCloseTo(2.5, 12);
    expect(sm1.se).toBeNull();
    expect(sm1.pendingSeeds).toEqual([17, 19]);
    expect(summary.unfinished).toEqual([join('lenet300-100', 'sparse-momentum', 'd0.01', 's19')]);
    // a planned cell with no run is listed as pending, never dropped
    const set5 = cell('set', 0.05);
    expect(set5).toMatchObject({ n: 0, mean: null, se: null, pendingSeeds: [17, 18], planned: true });
    expect(cell('dense', 1)).toMatchObject({ model: 'lenet5', n: 0, pendingSeeds: [17] });
    // a run outside the plan is shown, marked unplanned
    expect(cell('rigl', 0.02)).toMatchObject({ planned: false, n: 1 });
    expect(summary.plannedRuns).toBe(3 + 3 + 2 + 1);
    expect(summary.finishedPlannedRuns).toBe(4);
  });

  it('renders Markdown rows with per-seed values, pending seeds and the published value', () => {
    const md = renderMarkdown(buildSummary(collectRuns(fixture(runs, plan))));
    expect(md).toContain('| Sparse Momentum | 5 % | 3 | **1.60** | 0.06 | s17: 1.50, s18: 1.60, s19: 1.70 | 1.53 ± 0.02 (paper, compression data); 1.47 ± 0.03 (paper, dynamic-sparse data (100 − acc.)) |');
    expect(md).toContain('| Sparse Momentum | 1 % | 1 | **2.50** | — | s18: 2.50; pending s17, s19 | 2.36 ± 0.04 (paper, compression data) |');
    expect(md).toContain('| SET | 5 % | 0 | pending | — | pending s17, s18 | 1.86 (paper, dynamic-sparse data (100 − acc.)) |');
    expect(md).toContain('| RigL (not in the plan) | 2 % | 1 | **2.00** |');
    expect(md).toContain('4 of 9 pre-registered runs finished.');
    expect(md).toContain('Cells with no finished run yet: LeNet-300-100 SET 5 %, LeNet-5-Caffe dense 100 %.');
    expect(md).toContain(`Run directories without results.json (not counted): ${join('lenet300-100', 'sparse-momentum', 'd0.01', 's19')}.`);
  });

  it('is deterministic and the figure carries one marker per finished cell plus the published values', () => {
    const dir = fixture(runs, plan);
    const a = summarizeResults(dir);
    const b = summarizeResults(dir);
    expect(a.markdown).toBe(b.markdown);
    expect(a.svg).toBe(b.svg);
    expect(a.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    // filled markers (r = 3.5): SM 1 %, SM 5 %, RigL 2 %; error bars only where n > 1 (SM 5 %)
    expect(a.svg.match(/r="3\.5"/g)).toHaveLength(3);
    expect(a.svg.match(/<path d="M/g)).toHaveLength(1);
    expect(a.svg).toContain('LeNet-300-100, MNIST');
    expect(a.svg).toContain('LeNet-5-Caffe, MNIST');
  });

  it('--write puts the tables between the README markers (keeping the rest) and writes the SVG; --json and --out', () => {
    const dir = fixture(runs, plan);
    writeFileSync(join(dir, 'README.md'), `# Results\n\nintro\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\nclosing note\n`);
    const { io: cli, out } = io();
    expect(summarizeCommand(dir, { write: true }, cli)).toBe(0);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme.startsWith('# Results\n\nintro\n\n')).toBe(true);
    expect(readme.endsWith('\n\nclosing note\n')).toBe(true);
    expect(extractBlock(readme)).toBe(summarizeResults(dir).markdown.trim());
    expect(readFileSync(join(dir, 'mnist-error-vs-density.svg'), 'utf8')).toBe(summarizeResults(dir).svg);
    expect(out.join('')).toContain('wrote ');
    const json = io();
    summarizeCommand(dir, { json: true }, json.io);
    const parsed = JSON.parse(json.out.join(''));
    expect(parsed.cells.find((c: { label: string; density: number }) => c.label === 'sparse-momentum' && c.density === 0.05).n).toBe(3);
    const file = join(dir, 'tables.md');
    summarizeCommand(dir, { out: file }, io().io);
    expect(readFileSync(file, 'utf8')).toBe(summarizeResults(dir).markdown);
  });

  it('report on a results directory writes report.html with the tables and the inline figure', () => {
    const dir = fixture(runs, plan);
    const html = readFileSync(writeReport(dir), 'utf8');
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(html).toContain('<td>Sparse Momentum</td><td>5 %</td><td>3</td><td>1.60</td><td>0.06</td><td>s17: 1.50, s18: 1.60, s19: 1.70</td>');
    expect(html).toContain('4 of 9 pre-registered runs finished.');
    expect(html).not.toContain('<script');
  });

  it('counts only the runs an include filter accepts (the drift test passes git-tracked files)', () => {
    const dir = fixture(runs, plan);
    const summary = buildSummary(collectRuns(dir, { include: (p) => !p.includes('s19') }));
    expect(summary.cells.find((c) => c.label === 'sparse-momentum' && c.density === 0.05)!.n).toBe(2);
  });
});

describe('summarize: coded errors', () => {
  const codeOf = (f: () => unknown) => {
    try {
      f();
    } catch (error) {
      return { code: (error as { code?: string }).code, message: (error as Error).message };
    }
    return null;
  };

  it('E_DATA_MISSING for a missing directory, a file, or a directory with neither plan nor runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-summarize-'));
    expect(codeOf(() => collectRuns(join(dir, 'nope')))).toMatchObject({ code: 'E_DATA_MISSING', message: expect.stringContaining('does not exist') });
    writeFileSync(join(dir, 'f.txt'), 'x');
    expect(codeOf(() => collectRuns(join(dir, 'f.txt')))).toMatchObject({ code: 'E_DATA_MISSING', message: expect.stringContaining('is a file') });
    expect(codeOf(() => collectRuns(dir))).toMatchObject({ code: 'E_DATA_MISSING', message: expect.stringContaining('grid-plan.json') });
  });

  it('E_DATA_CORRUPT naming the file for a malformed results.json, a results.json without testError, or a bad plan', () => {
    const broken = fixture([['lenet300-100', 'set', 0.05, 17, 0.02]]);
    writeFileSync(join(broken, 'lenet300-100', 'set', 'd0.05', 's17', 'results.json'), '{"testError": ');
    expect(codeOf(() => collectRuns(broken))).toMatchObject({ code: 'E_DATA_CORRUPT', message: expect.stringContaining(join('d0.05', 's17', 'results.json')) });
    writeFileSync(join(broken, 'lenet300-100', 'set', 'd0.05', 's17', 'results.json'), '{"testAccuracy": 0.98}');
    expect(codeOf(() => collectRuns(broken))).toMatchObject({ code: 'E_DATA_CORRUPT', message: expect.stringContaining("no finite 'testError'") });
    const badPlan = fixture([], { cells: [{ model: 'lenet5', label: 'dense', densities: 'all', seeds: [1] }] });
    expect(codeOf(() => collectRuns(badPlan))).toMatchObject({ code: 'E_DATA_CORRUPT', message: expect.stringContaining('cell 0 is malformed') });
    expect(codeOf(() => extractBlock(`${BEGIN_MARKER}\nx\n`))).toMatchObject({ code: 'E_DATA_CORRUPT' });
  });

  it('helpers: density in %, README without markers gets the block appended', () => {
    expect([0.01, 0.015, 0.05, 0.1, 1].map(densityPercent)).toEqual(['1', '1.5', '5', '10', '100']);
    const readme = replaceBlock('# R\n', 'table\n');
    expect(readme).toBe(`# R\n\n${BEGIN_MARKER}\n\ntable\n\n${END_MARKER}\n`);
    expect(extractBlock(readme)).toBe('table');
    expect(writeSummary).toBeTypeOf('function');
  });
});
