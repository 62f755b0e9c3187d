import { resolve } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomicSync } from '@sparse-learning/checkpoint';
import { summarizeResults, summaryJson, writeSummary } from '../summarize/write-summary.js';
import type { OutputStream } from './progress.js';

/** The streams the summarize command writes to (the CLI's `CliIo`). */
interface SummarizeIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly cwd: string;
}

/** Options of `sparse-learning summarize`. */
export interface SummarizeOptions {
  readonly json?: boolean;
  readonly out?: string;
  readonly write?: boolean;
  readonly figure?: string;
}

/**
 * `sparse-learning summarize <dir>`: reads every finished run under `<dir>/<model>/<label>/d<density>/s<seed>/`
 * and the pre-registered `<dir>/grid-plan.json`, and prints the tables (n, mean ± SE, per-seed values, the
 * published value beside; pending cells listed) as Markdown, or JSON with `--json`. `--out` writes them to a
 * file instead; `--write` regenerates `<dir>/README.md` (between its markers) and
 * `<dir>/mnist-error-vs-density.svg`; `--figure` writes the SVG elsewhere too. Returns the exit code.
 */
export function summarizeCommand(dir: string, options: SummarizeOptions, io: SummarizeIo): number {
  const root = resolve(io.cwd, dir);
  const outputs = summarizeResults(root);
  const text = options.json ? summaryJson(outputs.summary) : outputs.markdown;
  if (options.out) {
    const path = resolve(io.cwd, options.out);
    writeFileAtomicSync(path, text);
    io.stdout.write(`wrote ${path}\n`);
  } else if (!options.write) {
    io.stdout.write(text);
  }
  if (options.figure) {
    const path = resolve(io.cwd, options.figure);
    writeFileAtomicSync(path, outputs.svg);
    io.stdout.write(`wrote ${path}\n`);
  }
  if (options.write) {
    const written = writeSummary(root, outputs);
    io.stdout.write(`wrote ${written.readme}\nwrote ${written.figure}\n`);
  }
  const { finishedPlannedRuns, plannedRuns } = outputs.summary;
  if (plannedRuns > 0) io.stderr.write(`${finishedPlannedRuns} of ${plannedRuns} pre-registered runs finished\n`);
  return 0;
}

/** Registers `summarize` on the CLI program. */
export function addSummarizeCommand(program: Command, io: SummarizeIo, setExit: (code: number) => void): void {
  program
    .command('summarize')
    .description('tables (n, mean ± SE, per-seed values, published value) and the error-vs-density figure of a results directory (<model>/<label>/d<density>/s<seed>/ runs)')
    .argument('<dir>', 'results directory, e.g. results/')
    .option('--json', 'print JSON instead of Markdown')
    .option('--out <file>', 'write the tables (Markdown, or JSON with --json) to this file instead of stdout')
    .option('--write', "regenerate <dir>/README.md's tables (between the summarize markers) and <dir>/mnist-error-vs-density.svg")
    .option('--figure <file>', 'also write the SVG figure to this file')
    .action((dir: string, options: SummarizeOptions) => setExit(summarizeCommand(dir, options, io)));
}
