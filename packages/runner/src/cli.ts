/**
 * The `sparse-learning` executable (package `bin`). All logic is in `cli/program.ts` so that tests can run the
 * CLI in-process; this file only wires the process.
 */
import 'reflect-metadata';
import { main } from './cli/program.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
