import { join, resolve } from 'node:path';
import type { Logger } from '@sparse-learning/core';
import type { Command } from 'commander';
import { runComparison, type ComparisonResult } from '../compare/compare.js';
import { formatInterval } from '../compare/statistics.js';
import type { ConfigSource } from '../config/resolve.js';
import { redactSecrets } from '../queue/connection.js';
import { queueExecutor } from '../queue/submit.js';
import { checkRunDirectory } from '../run/run-dir-guard.js';
import { EXIT, cliLogger, forceOf, jobsOf, pct, sourcesOf, timestamp, type CliIo } from './cli-io.js';
import { outDirOf } from './errors.js';
import { addConfigOptions, parseIntFlag, parseList, parseNumberList } from './options.js';
import { ProgressRenderer, epochLine, formatDuration } from './progress.js';
import { gridProgressLine } from './queue-train.js';

/** `sparse-learning compare`: presets × densities × seeds, summarised as mean ± SE and the 95 % interval. */
export function addCompareCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  addConfigOptions(
    program
      .command('compare')
      .description('presets × densities × seeds → mean ± SE of the test error and the 95 % interval (Markdown + JSON)')
      .option('--presets <list>', 'comma-separated presets', 'sparse-momentum,set,deep-r,dense')
      .option('--densities <list>', 'comma-separated densities', '0.05')
      .option('--seeds <n>', 'seeds per cell: seed, seed+1, …', '3')
      .option('--jobs <n>', 'parallel worker processes (default: number of cores)')
      .option('--out <dir>', 'comparison directory (default runs/<time>-compare)')
      .option('--force', "write into an --out directory that already holds a comparison, replacing its own files (other files are kept)")
      .option('--overwrite', 'same as --force')
      .option('--queue <url>', 'one job per run on a Redis queue served by `sparse-learning worker` on any number of machines: redis://[[user]:password@]host[:port][/db] or rediss://…'),
  ).action(async (options: Record<string, unknown>) => setExit(await compareCommand(options, io)));
}

/** Runs a comparison (also `train --iters n`) and prints its table. */
export async function compareAndPrint(
  args: {
    sources: ConfigSource[];
    presets: string[];
    densities: number[];
    seeds: number;
    outDir: string;
    jobs: number;
    logger: Logger;
    /** `--queue <url>`: run on the workers of a BullMQ queue instead of local processes. */
    queue?: string;
    /** `--force`: replace an earlier comparison in `outDir`. */
    overwrite?: boolean;
  },
  io: CliIo,
): Promise<number> {
  // A comparison never writes into a directory that holds anything (--force replaces an earlier comparison).
  checkRunDirectory(args.outDir, { kind: 'comparison', overwrite: args.overwrite }, args.logger);
  const progress = new ProgressRenderer(io.stderr);
  const started = performance.now();
  const { queue, overwrite: _overwrite, ...comparison } = args;
  const executor =
    queue === undefined
      ? undefined
      : queueExecutor({
          url: queue,
          logger: args.logger,
          onSubmitted: (info) => progress.line(`submitted to ${info.queue}${info.reattached ? ` (reattached: ${info.reattached} jobs were already there)` : ''}; start workers with: sparse-learning worker --queue <url>`),
          onProgress: (p) => progress.line(gridProgressLine(p)),
        });
  const result: ComparisonResult = await runComparison({
    ...comparison,
    ...(executor ? { executor } : {}),
    cwd: io.cwd,
    command: redactSecrets(`sparse-learning ${process.argv.slice(2).join(' ')}`.trim()),
    observer: {
      onPlan: (plan) =>
        io.stdout.write(
          plan.executor
            ? `comparison: ${plan.runs} runs on ${plan.executor} → ${plan.outDir}\n`
            : `comparison: ${plan.runs} runs on ${plan.workers} worker process${plan.workers === 1 ? '' : 'es'} → ${plan.outDir}\n`,
        ),
      onBackend: (run) => progress.line(`[${run.label}] backend: ${run.backend} — ${run.reason}`),
      onEpoch: (run, metrics) => progress.line(epochLine(metrics, run.epochs, `[${run.label}] `)),
      onRunEnd: (run, done, total) => {
        const elapsed = (performance.now() - started) / 1000;
        const eta = (elapsed / done) * (total - done);
        progress.line(
          run.status === 'ok' && run.results
            ? `[${done}/${total}] ${run.dir}: test error ${pct(run.results.testError)} in ${formatDuration(run.results.seconds)} (ETA ${formatDuration(eta)})`
            : `[${done}/${total}] ${run.dir}: FAILED ${run.error?.code} ${run.error?.message}`,
        );
      },
    },
  });
  progress.clear();
  io.stdout.write('\n| preset | density | n | test error (%) | ± SE | 95 % interval |\n|---|---:|---:|---:|---:|---|\n');
  for (const row of result.rows) {
    const f = (v: number | null) => (typeof v === 'number' && Number.isFinite(v) ? (100 * v).toFixed(2) : '—');
    io.stdout.write(
      `| ${row.preset} | ${row.density} | ${row.testError.n} | ${f(row.testError.mean)} | ${f(row.testError.se)} | ${formatInterval(row.testError.ci95, 100)} |\n`,
    );
  }
  io.stdout.write(`\nwrote ${join(args.outDir, 'compare.md')} and compare.json in ${formatDuration(result.seconds)}\n`);
  const failed = result.runs.filter((r) => r.status === 'failed').length;
  if (failed) io.stderr.write(`${failed} run${failed === 1 ? '' : 's'} failed (see compare.md)\n`);
  return failed ? EXIT.failed : EXIT.ok;
}

async function compareCommand(options: Record<string, unknown>, io: CliIo): Promise<number> {
  const sources = sourcesOf(options, io.cwd);
  const presets = parseList(String(options.presets));
  const densities = parseNumberList('--densities', String(options.densities));
  const seeds = parseIntFlag('--seeds', String(options.seeds));
  const outDir = resolve(io.cwd, outDirOf(options.out) ?? join('runs', `${timestamp()}-compare`));
  const queue = typeof options.queue === 'string' ? options.queue : undefined;
  return compareAndPrint(
    { sources, presets, densities, seeds, outDir, jobs: jobsOf(options), logger: cliLogger(io, options.verbose === true), queue, overwrite: forceOf(options) },
    io,
  );
}

