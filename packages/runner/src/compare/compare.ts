import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { SparseLearningError, outOfRangeError, type Logger, silentLogger } from '@sparse-learning/core';
import { resolveConfig, type ConfigSource } from '../config/resolve.js';
import { checkStrategyIds } from '../composition/compose.js';
import { loadPlugin } from '../composition/plugin-loader.js';
import type { ExperimentConfig } from '../config/schema.js';
import { writeFileAtomicSync, writeJsonAtomicSync } from '@sparse-learning/checkpoint';
import { getPreset } from '../presets/index.js';
import { runExperiment } from '../run/experiment.js';
import { claimRunDirectory } from '../run/run-dir-guard.js';
import type { EpochMetrics, RunResults } from '../run/metrics.js';
import { formatInterval, summarize, type Summary } from './statistics.js';
import { runJobsInWorkers, type WorkerJob, type WorkerMessage } from './worker-pool.js';

/**
 * Runs a comparison's jobs somewhere other than local worker processes (the BullMQ queue of `--queue`,
 * `src/queue/`), reporting the same messages as the local pool. It writes each finished run's files into
 * `job.outDir` before reporting it `done`.
 */
export interface JobExecutor {
  /** Where the runs go, for the plan line (no credentials). */
  readonly description: string;
  run(jobs: readonly WorkerJob[], onMessage: (message: WorkerMessage, job: WorkerJob) => void, context: { readonly outDir: string }): Promise<void>;
}

/** One cell of the grid, as run. */
export interface ComparisonRun {
  readonly preset: string;
  readonly density: number;
  readonly seed: number;
  /** Run directory relative to the comparison directory. */
  readonly dir: string;
  readonly status: 'ok' | 'failed';
  readonly results?: RunResults;
  readonly error?: { readonly code: string; readonly message: string };
}

/** One row of the table: a preset at a density over all seeds. */
export interface ComparisonRow {
  readonly preset: string;
  readonly density: number;
  /** Test error (fraction) over the seeds: mean, SE = std(ddof=1)/√n, 95 % interval ±1.96·SE. */
  readonly testError: Summary;
  readonly testAccuracy: Summary;
  readonly seconds: Summary;
  readonly failed: number;
}

/** `compare.json`. */
export interface ComparisonResult {
  readonly model: string;
  readonly dataset: string;
  readonly presets: string[];
  readonly densities: number[];
  readonly seeds: number[];
  readonly epochs: number;
  readonly maxBatches: number | null;
  readonly backends: string[];
  readonly rows: ComparisonRow[];
  readonly runs: ComparisonRun[];
  readonly command: string | null;
  readonly createdAt: string;
  readonly seconds: number;
}

/** Progress callbacks of {@link runComparison}. */
export interface ComparisonObserver {
  onPlan?(info: { readonly runs: number; readonly workers: number; readonly outDir: string; readonly executor?: string }): void;
  onRunStart?(run: { readonly label: string; readonly index: number }): void;
  onBackend?(run: { readonly label: string; readonly backend: string; readonly reason: string }): void;
  onEpoch?(run: { readonly label: string; readonly epochs: number }, metrics: EpochMetrics): void;
  onRunEnd?(run: ComparisonRun, done: number, total: number): void;
}

/** Options of {@link runComparison}. */
export interface ComparisonOptions {
  /** User configuration layers (config file, flags); `preset`, `density` and `seed` are set per cell. */
  readonly sources: readonly ConfigSource[];
  readonly presets: readonly string[];
  readonly densities: readonly number[];
  /** Number of seeds: `seed, seed + 1, …` from the configuration's `seed` (default 17). */
  readonly seeds: number;
  readonly outDir: string;
  /** Parallel worker processes (default: the number of cores); 1 runs in this process. */
  readonly jobs?: number;
  readonly logger?: Logger;
  readonly observer?: ComparisonObserver;
  readonly cwd?: string;
  /** The command line, recorded in `compare.json` and the Markdown. */
  readonly command?: string;
  /** Run the jobs with this executor (queue mode) instead of `jobs` local processes. */
  readonly executor?: JobExecutor;
}

function cellDir(preset: string, density: number, seed: number): string {
  return join('runs', `${preset}-d${density}-s${seed}`);
}

function label(preset: string, density: number, seed: number): string {
  return `${preset} d=${density} seed=${seed}`;
}

/** A dense preset trains every weight: it runs once per seed, at density 1, whatever densities were asked. */
function isDensePreset(id: string): boolean {
  return getPreset(id).sparsity === 'dense';
}

/**
 * Runs presets × densities × seeds and summarises the test error the way the paper reports it (mean ± SE,
 * 95 % interval, docs/algorithm.md#recipes notes). The dense preset ignores density and runs once per seed (density 1).
 * Independent runs go to `jobs` worker processes; every run writes its own run directory under `runs/`.
 * Writes `compare.json` and `compare.md` into `outDir`. Every cell's configuration is resolved and validated
 * before the first run starts, so a bad value fails in seconds.
 *
 * Failed runs are recorded (`status: 'failed'` with the error) and left out of the statistics.
 */
export async function runComparison(options: ComparisonOptions): Promise<ComparisonResult> {
  const started = performance.now();
  const logger = options.logger ?? silentLogger;
  if (options.presets.length === 0) throw new SparseLearningError('E_CONFIG_INVALID', '--presets must name at least one preset');
  if (options.densities.length === 0) throw new SparseLearningError('E_CONFIG_INVALID', '--densities must name at least one density');
  if (!Number.isInteger(options.seeds) || options.seeds < 1 || options.seeds > 1000) {
    throw outOfRangeError('seeds', options.seeds, 'an integer 1 <= seeds <= 1000');
  }
  const jobsWanted = options.jobs ?? cpus().length;
  if (!Number.isInteger(jobsWanted) || jobsWanted < 1) throw outOfRangeError('jobs', jobsWanted, 'an integer >= 1');
  for (const preset of options.presets) getPreset(preset);

  const outDir = resolve(options.outDir);
  const base = resolveConfig(...options.sources).config;
  const seeds = Array.from({ length: options.seeds }, (_, i) => base.seed + i);
  const cells: { preset: string; density: number; seed: number; config: ExperimentConfig; origins: Record<string, string> }[] = [];
  for (const preset of options.presets) {
    const densities = isDensePreset(preset) ? [1] : options.densities;
    for (const density of densities) {
      for (const seed of seeds) {
        const grid: ConfigSource = { name: 'compare grid', values: { preset, seed, ...(isDensePreset(preset) ? {} : { density }) } };
        const { config, origins } = resolveConfig(...options.sources, grid);
        cells.push({ preset, density: config.density, seed, config: { ...config, iters: 1 }, origins: { ...origins } });
      }
    }
  }

  // Strategy ids and plugins are checked once per distinct configuration before any run starts.
  const checked = new Set<string>();
  for (const cell of cells) {
    const key = JSON.stringify([cell.config.prune, cell.config.growth, cell.config.redistribution, cell.config.densityDistribution, cell.config.plugins]);
    if (checked.has(key)) continue;
    checked.add(key);
    const plugins = await Promise.all(cell.config.plugins.map((p) => loadPlugin(p, options.cwd)));
    await checkStrategyIds(cell.config, plugins);
  }

  // One comparison per directory at a time (each of its runs is locked on its own as it trains); released
  // once compare.json is written, or at the latest when the process ends.
  const lock = await claimRunDirectory(outDir, { kind: 'comparison', resuming: true, command: 'compare', logger });

  const jobs: WorkerJob[] = cells.map((cell, id) => ({
    id,
    config: cell.config,
    origins: cell.origins,
    outDir: join(outDir, cellDir(cell.preset, cell.density, cell.seed)),
    cwd: options.cwd ?? process.cwd(),
  }));
  const workers = Math.min(jobsWanted, jobs.length);
  options.observer?.onPlan?.({ runs: jobs.length, workers, outDir, ...(options.executor ? { executor: options.executor.description } : {}) });
  logger.info(`compare: ${jobs.length} runs on ${workers} worker${workers === 1 ? '' : 's'}`, { outDir });

  const runs: ComparisonRun[] = new Array(jobs.length);
  let done = 0;
  const finish = (job: WorkerJob, outcome: { results?: RunResults; error?: { code: string; message: string } }) => {
    const cell = cells[job.id];
    const run: ComparisonRun = {
      preset: cell.preset,
      density: cell.density,
      seed: cell.seed,
      dir: relative(outDir, job.outDir),
      status: outcome.results ? 'ok' : 'failed',
      ...(outcome.results ? { results: outcome.results } : { error: outcome.error }),
    };
    runs[job.id] = run;
    done++;
    options.observer?.onRunEnd?.(run, done, jobs.length);
    if (outcome.error) logger.error(`run ${label(cell.preset, cell.density, cell.seed)} failed: ${outcome.error.message}`);
  };

  const startedRuns = new Set<number>();
  const onMessage = (message: WorkerMessage, job: WorkerJob) => {
    const cell = cells[job.id];
    const name = label(cell.preset, cell.density, cell.seed);
    if (!startedRuns.has(job.id)) {
      startedRuns.add(job.id);
      options.observer?.onRunStart?.({ label: name, index: job.id });
    }
    if (message.type === 'backend') options.observer?.onBackend?.({ label: name, backend: message.backend, reason: message.reason });
    else if (message.type === 'epoch') options.observer?.onEpoch?.({ label: name, epochs: job.config.epochs }, message.metrics);
    else if (message.type === 'done') finish(job, { results: message.results });
    else if (message.type === 'failed') finish(job, { error: message.error });
  };
  if (options.executor) {
    await options.executor.run(jobs, onMessage, { outDir });
  } else if (workers <= 1) {
    for (const job of jobs) {
      const cell = cells[job.id];
      const name = label(cell.preset, cell.density, cell.seed);
      options.observer?.onRunStart?.({ label: name, index: job.id });
      try {
        const results = await runExperiment({
          config: job.config,
          origins: job.origins,
          outDir: job.outDir,
          cwd: job.cwd,
          logger,
          observer: {
            onBackend: (choice) => options.observer?.onBackend?.({ label: name, backend: choice.backend, reason: choice.reason }),
            onEpoch: (metrics) => options.observer?.onEpoch?.({ label: name, epochs: job.config.epochs }, metrics),
          },
        });
        finish(job, { results });
      } catch (error) {
        const err = error as { code?: string; message?: string };
        finish(job, { error: { code: err.code ?? 'E_ENGINE_STATE', message: err.message ?? String(error) } });
      }
    }
  } else {
    await runJobsInWorkers(jobs, workers, { onMessage });
  }

  const rows: ComparisonRow[] = [];
  for (const preset of options.presets) {
    const densities = isDensePreset(preset) ? [1] : options.densities;
    for (const density of densities) {
      const group = runs.filter((r) => r.preset === preset && r.density === density);
      const ok = group.filter((r) => r.status === 'ok' && r.results).map((r) => r.results as RunResults);
      rows.push({
        preset,
        density,
        testError: summarize(ok.map((r) => r.testError)),
        testAccuracy: summarize(ok.map((r) => r.testAccuracy)),
        seconds: summarize(ok.map((r) => r.seconds)),
        failed: group.length - ok.length,
      });
    }
  }
  const result: ComparisonResult = {
    model: base.model,
    dataset: base.dataset,
    presets: [...options.presets],
    densities: [...new Set(rows.map((r) => r.density))],
    seeds,
    epochs: base.epochs,
    maxBatches: base.maxBatches ?? null,
    backends: [...new Set(runs.filter((r) => r.results).map((r) => (r.results as RunResults).backend.name))],
    rows,
    runs,
    command: options.command ?? null,
    createdAt: new Date().toISOString(),
    seconds: (performance.now() - started) / 1000,
  };
  writeJsonAtomicSync(join(outDir, 'compare.json'), result);
  writeFileAtomicSync(join(outDir, 'compare.md'), comparisonMarkdown(result));
  await lock.release();
  return result;
}

function pct(value: number, digits = 2): string {
  return Number.isFinite(value) ? (100 * value).toFixed(digits) : '—';
}

/** The comparison as a Markdown table (test error in %, mean ± SE, 95 % interval), with its provenance. */
export function comparisonMarkdown(result: ComparisonResult): string {
  const lines = [
    `# ${result.model} on ${result.dataset}: test error (%)`,
    '',
    `${result.seeds.length} seed${result.seeds.length === 1 ? '' : 's'} (${result.seeds.join(', ')}), ${result.epochs} epoch${result.epochs === 1 ? '' : 's'}` +
      `${result.maxBatches ? `, at most ${result.maxBatches} batches per epoch` : ''}; backend ${result.backends.join(', ') || '—'}. ` +
      'Mean ± standard error (SE = std(ddof = 1)/√n); 95 % interval = mean ± 1.96·SE. Last-epoch test error.',
    '',
    '| preset | density | n | test error (%) | ± SE | 95 % interval | mean run time (s) |',
    '|---|---:|---:|---:|---:|---|---:|',
    ...result.rows.map(
      (row) =>
        `| ${row.preset} | ${row.density} | ${row.testError.n}${row.failed ? ` (${row.failed} failed)` : ''} | ${pct(row.testError.mean)} | ${row.testError.se === null ? '—' : pct(row.testError.se)} | ${formatInterval(row.testError.ci95, 100)} | ${Number.isFinite(row.seconds.mean) ? row.seconds.mean.toFixed(1) : '—'} |`,
    ),
    '',
  ];
  if (result.command) lines.push('Command:', '', '```', result.command, '```', '');
  const failed = result.runs.filter((r) => r.status === 'failed');
  if (failed.length) {
    lines.push('Failed runs:', '', ...failed.map((r) => `- ${r.dir}: ${r.error?.code} ${r.error?.message}`), '');
  }
  return `${lines.join('\n')}`;
}
