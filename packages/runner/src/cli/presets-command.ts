import type { Command } from 'commander';
import { PRESETS } from '../presets/index.js';
import { EXIT, table, type CliIo } from './cli-io.js';

/** `sparse-learning presets`: the presets, from their data. */
export function addPresetsCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('presets')
    .description('list the presets')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) => {
      const rows = PRESETS.map((p) => ({ id: p.id, summary: p.summary, reference: p.reference }));
      io.stdout.write(
        options.json ? `${JSON.stringify(rows, null, 2)}\n` : `${table([['id', 'summary'], ...rows.map((r) => [r.id, r.summary])])}\n`,
      );
      setExit(EXIT.ok);
    });
}
