import type { Command } from 'commander';
import { ER_MLP_FAMILY, modelIds, modelInfo } from '@sparse-learning/models';
import { EXIT, table, type CliIo } from './cli-io.js';

/** `sparse-learning models`: the model zoo. */
export function addModelsCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('models')
    .description('list the model zoo')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) => {
      const rows = modelIds.map((id) => modelInfo(id));
      // The family's counts depend on its width: listed with one example member (issue 9's width sweep).
      const example = modelInfo('er-mlp-100000');
      const family = {
        id: ER_MLP_FAMILY,
        family: true,
        example: example.id,
        description: '784-W-W-10 ReLU MLP, biases, PyTorch init; train it with --preset set (Erdős–Rényi masks) and --execution sparse',
        dataset: example.dataset,
        maskedWeights: '784·W + W² + 10·W',
        totalParameters: '784·W + W² + 12·W + 10',
      };
      if (options.json) {
        io.stdout.write(
          `${JSON.stringify([...rows.map((m) => ({ id: m.id, dataset: m.dataset, maskedWeights: m.maskedWeights, totalParameters: m.totalParameters })), family], null, 2)}\n`,
        );
      } else {
        io.stdout.write(
          `${table([
            ['id', 'dataset', 'masked weights', 'total parameters'],
            ...rows.map((m) => [m.id, m.dataset, m.maskedWeights.toLocaleString('en-US'), m.totalParameters.toLocaleString('en-US')]),
            [family.id, family.dataset, family.maskedWeights, family.totalParameters],
          ])}\n`,
        );
      }
      setExit(EXIT.ok);
    });
}
