import * as tf from '@tensorflow/tfjs-core';
import { SparseLearningError, isSparseLearningError } from '@sparse-learning/core';
import { Command, CommanderError } from 'commander';
import { RUNNER_VERSION } from '../version.js';
import { EXIT, USAGE_CODES, type CliIo } from './cli-io.js';
import { addCompareCommand } from './compare-command.js';
import { addDatasetsCommand } from './datasets-command.js';
import { codedUsageMessage, internalErrorMessage } from './errors.js';
import { addExportCommand } from './export-command.js';
import { addModelsCommand } from './models-command.js';
import { addPluginsCommand } from './plugins-command.js';
import { addPresetsCommand } from './presets-command.js';
import { addReportCommand } from './report-command.js';
import { addSummarizeCommand } from './summarize-command.js';
import { addTrainCommand } from './train-command.js';
import { addWorkerCommand } from './worker-command.js';

export { EXIT, type CliIo } from './cli-io.js';

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

  addTrainCommand(program, io, setExit);
  addCompareCommand(program, io, setExit);
  addWorkerCommand(program, io, setExit);
  addReportCommand(program, io, setExit);
  addSummarizeCommand(program, io, setExit);
  addExportCommand(program, io, setExit);
  addModelsCommand(program, io, setExit);
  addDatasetsCommand(program, io, setExit);
  addPresetsCommand(program, io, setExit);
  addPluginsCommand(program, io, setExit);

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
