import type { Command } from 'commander';
import { modelIds, modelInfo } from '@sparse-learning/models';
import { EXIT, table, type CliIo } from './cli-io.js';

/** `sparse-learning models`: the model zoo. */
export function addModelsCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
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
}
