import { join, resolve } from 'node:path';
import { SparseLearningError, type Logger } from '@sparse-learning/core';
import type { Command } from 'commander';
import { loadPlugin } from '../composition/plugin-loader.js';
import { mergeLayers, resolveConfig } from '../config/resolve.js';
import type { ExperimentConfig } from '../config/schema.js';
import { RunInterrupted, runExperiment, type RunObserver } from '../run/experiment.js';
import { loadResumePoint, resumeConfig } from '../run/resume.js';
import { RUNNER_VERSION } from '../version.js';
import { EXIT, SIGNAL_EXIT, cliLogger, forceOf, holdAtStep, jobsOf, pct, sourcesOf, timestamp, withStopSignals, type CliIo } from './cli-io.js';
import { compareAndPrint } from './compare-command.js';
import { outDirOf } from './errors.js';
import { addConfigOptions, flagOf } from './options.js';
import { ProgressRenderer, epochLine, formatDuration } from './progress.js';
import { queueTrain } from './queue-train.js';

/** `sparse-learning train`: one run (or `--iters` seeds as a comparison), `--resume` to continue one. */
export function addTrainCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
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
  const outDir = resolve(io.cwd, outDirOf(options.out) ?? join('runs', `${timestamp()}-${config.preset}-${config.model}-d${shortDensity(config.density)}-s${config.seed}`));
  if (queue !== undefined) return queueTrain({ url: queue, config, origins, outDir, cwd: io.cwd, overwrite: forceOf(options) }, io);
  return trainAndPrint({ config, origins, outDir, logger, options, warnings }, io);
}

/** Progress output of one training run (header, bar or epoch lines). */
function trainObserver(config: ExperimentConfig, outDir: string, io: CliIo, progress: ProgressRenderer, resumed: boolean): RunObserver {
  return {
    onBackend: (choice) => {
      io.stdout.write(
        `sparse-learning ${RUNNER_VERSION}: ${config.preset} · ${config.model} on ${config.dataset} · density ${shortDensity(config.density)} · seed ${config.seed}\n` +
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

/**
 * A density for people and directory names: 4 significant digits (an `--epsilon`-derived density such as
 * 0.003404058863133596 prints 0.003404). config.json keeps the exact value.
 */
function shortDensity(density: number): string {
  return String(Number(density.toPrecision(4)));
}
