import { resolve } from 'node:path';
import type { Command } from 'commander';
import { exportRun } from '../run/export.js';
import { EXIT, cliLogger, type CliIo } from './cli-io.js';
import { outDirOf } from './errors.js';

/** `sparse-learning export <run-dir>`: the trained sparse model and its size against the dense one. */
export function addExportCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('export')
    .description('save the trained sparse model of a run (values + indices + dense parts) and print its size against the dense model')
    .argument('<run-dir>', 'run directory (its latest checkpoint: the final one once training has finished)')
    .option('--out <file>', 'output file (default <run-dir>/model.slsparse)')
    .option('--allow-older-checkpoint', "export the newest usable checkpoint when the run's newest one is corrupt (otherwise an error)")
    .option('--verbose', 'print the library log')
    .action(async (dir: string, options: { out?: string; verbose?: boolean; allowOlderCheckpoint?: boolean }) => setExit(await exportCommand(dir, options, io)));
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

