import { PLUGIN_KINDS, describeOption, type OptionsSchema } from '@sparse-learning/core';
import type { Command } from 'commander';
import { createRegistry } from '../composition/compose.js';
import { loadPlugin } from '../composition/plugin-loader.js';
import { PLUGIN_LIST_SLOTS, PLUGIN_SLOTS } from '../config/plugin-slots.js';
import { EXIT, table, type CliIo } from './cli-io.js';

/**
 * `sparse-learning plugins`: every registered plugin (built-ins and `--plugin` modules) by kind, with the
 * configuration field that selects it and its options — read from the registry, never from a hand-kept list.
 */
export function addPluginsCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('plugins')
    .description('list the plugins of every kind with their options (built-ins and --plugin modules)')
    .option('--plugin <path|pkg>', 'also load a plugin module (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--json', 'machine-readable output')
    .action(async (options: { plugin?: string[]; json?: boolean }) => {
      const plugins = await Promise.all((options.plugin ?? []).map((p) => loadPlugin(p, io.cwd)));
      const registry = createRegistry(plugins);
      const fieldOf = (kind: string) => [...PLUGIN_SLOTS, ...PLUGIN_LIST_SLOTS].find((s) => s.kind === kind)?.field ?? '';
      const rows = PLUGIN_KINDS.flatMap((kind) =>
        registry.list(kind).map((plugin) => ({
          kind,
          field: fieldOf(kind),
          id: plugin.id,
          summary: plugin.summary,
          owner: registry.ownerOf(kind, plugin.id) ?? '',
          options: Object.entries(plugin.options as OptionsSchema).map(([name, spec]) => ({
            name,
            default: spec.default ?? null,
            expected: describeOption(spec),
            description: spec.description,
          })),
        })),
      );
      if (options.json) {
        io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      } else {
        const optionText = (row: (typeof rows)[number]) =>
          row.options.map((o) => `${o.name}=${o.default === null ? '…' : JSON.stringify(o.default)}`).join(' ');
        io.stdout.write(`${table([['field', 'id', 'options', 'summary'], ...rows.map((r) => [r.field, r.id, optionText(r), r.summary])])}\n`);
      }
      setExit(EXIT.ok);
    });
}
