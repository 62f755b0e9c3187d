import { resolve } from 'node:path';
import type { Command } from 'commander';
import { writeReport } from '../report/report.js';
import { EXIT, type CliIo } from './cli-io.js';
import { outDirOf } from './errors.js';

/** `sparse-learning report <dir>`: a self-contained report.html for a run or a comparison. */
export function addReportCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('report')
    .description('write a self-contained report.html (learning curves, per-layer density, redistribution shares, comparison) into a run or comparison directory')
    .argument('<dir>', 'run or comparison directory')
    .action((dir: string) => {
      const path = writeReport(resolve(io.cwd, outDirOf(dir, '<dir>') ?? ''), (warning) => io.stderr.write(`warn ${warning}\n`));
      io.stdout.write(`wrote ${path}\n`);
      setExit(EXIT.ok);
    });
}
