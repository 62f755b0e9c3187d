import { resolve } from 'node:path';
import { SparseLearningError, outOfRangeError, type Logger } from '@sparse-learning/core';
import type { Command } from 'commander';
import { redactSecrets } from '../queue/connection.js';
import { runQueueWorker } from '../queue/queue-worker.js';
import { parseIntFlag } from './options.js';
import type { OutputStream } from './progress.js';

/** The streams the worker command writes to (the CLI's `CliIo`). */
interface WorkerIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly cwd: string;
}

const NUMBER = /^\d+(\.\d+)?$/;

function seconds(flag: string, text: string, min: number): number {
  if (!NUMBER.test(text.trim())) throw new SparseLearningError('E_CONFIG_INVALID', `${flag} = '${text}' is not a number`, { flag, value: text });
  const value = Number(text);
  if (value < min) throw outOfRangeError(flag, value, `${flag} >= ${min} seconds`);
  return value;
}

/**
 * `sparse-learning worker --queue <url>`: serves queued grids until stopped (or idle for `--idle-exit`
 * seconds). The first SIGINT/SIGTERM stops it gracefully — running job processes save a checkpoint and their
 * jobs go back to the queue (no attempt used) — and exits 130/143; a second one exits at once.
 */
export async function workerCommand(options: Record<string, unknown>, io: WorkerIo): Promise<number> {
  const concurrency = parseIntFlag('--concurrency', String(options.concurrency ?? '1'));
  if (concurrency < 1 || concurrency > 256) throw outOfRangeError('--concurrency', concurrency, 'an integer 1 <= n <= 256');
  const lockSeconds = seconds('--lock-seconds', String(options.lockSeconds ?? '30'), 1);
  const idleExitSeconds = options.idleExit === undefined ? undefined : seconds('--idle-exit', String(options.idleExit), 0);
  const verbose = options.verbose === true;
  const stamp = () => new Date().toISOString().slice(11, 19);
  const say = (line: string) => void io.stdout.write(`${stamp()} ${redactSecrets(line)}\n`);
  const at = (level: string, always: boolean) => (message: string) => {
    if (always || verbose) io.stderr.write(`${level} ${redactSecrets(message)}\n`);
  };
  const logger: Logger = { debug: at('debug', false), info: at('info', false), warn: at('warn', true), error: at('error', true) };

  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      io.stderr.write(`\n${name} received: stopping; running jobs save a checkpoint and go back to the queue (send ${name} again to exit immediately)\n`);
      controller.abort(name);
      return;
    }
    process.exit(name === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await runQueueWorker({
      url: String(options.queue),
      concurrency,
      runRoot: resolve(io.cwd, String(options.runRoot ?? 'queue-runs')),
      lockSeconds,
      ...(idleExitSeconds !== undefined ? { idleExitSeconds } : {}),
      signal: controller.signal,
      logger,
      say,
    });
    say(`worker stopped: ${summary.completed} run${summary.completed === 1 ? '' : 's'} completed, ${summary.failed} failed, ${summary.grids} grid${summary.grids === 1 ? '' : 's'} served`);
    const reason = controller.signal.reason;
    return reason === 'SIGINT' ? 130 : reason === 'SIGTERM' ? 143 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Registers `worker` on the CLI program. */
export function addWorkerCommand(program: Command, io: WorkerIo, setExit: (code: number) => void): void {
  program
    .command('worker')
    .description('train the runs of queued grids (compare/train --queue) on this machine with its fastest backend; start it on any number of machines')
    .requiredOption('--queue <url>', 'Redis of the queue: redis://[[user]:password@]host[:port][/db], or rediss://… for TLS')
    .option('--concurrency <n>', 'runs at the same time, each in its own process (default 1)')
    .option('--run-root <dir>', 'where runs are trained (default ./queue-runs); share it between workers to resume a lost worker\'s runs from their checkpoints')
    .option('--lock-seconds <s>', 'a dead worker\'s runs go back to the queue after about twice this (default 30)')
    .option('--idle-exit <s>', 'stop after this many seconds without work (default: run until stopped)')
    .option('--verbose', 'print the library log')
    .action(async (options: Record<string, unknown>) => setExit(await workerCommand(options, io)));
}
