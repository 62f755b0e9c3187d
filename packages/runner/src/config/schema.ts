import { z } from 'zod';

/** Backends the runner can ask for (see `@sparse-learning/backend-native` for the `auto` order). */
export const BACKEND_IDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const;

/**
 * Human-readable valid range of every bounded number, used in error messages (`E_OUT_OF_RANGE`). Kept next to
 * the schema so a change of a bound changes its message.
 */
export const FIELD_RANGES: Readonly<Record<string, string>> = {
  density: '0 < density <= 1',
  pruneRate: '0 <= pruneRate < 1',
  epochs: 'an integer >= 1',
  batchSize: 'an integer >= 1',
  testBatchSize: 'an integer >= 1',
  lr: 'a finite number lr > 0',
  momentum: '0 <= momentum < 1',
  l2: '0 <= l2 < 1',
  decayFrequency: 'an integer >= 1',
  validSplit: '0 <= validSplit < 1',
  seed: 'an integer 0 <= seed <= 4294967295',
  iters: 'an integer 1 <= iters <= 1000',
  maxBatches: 'an integer >= 1',
  maxEvalBatches: 'an integer >= 1',
  numClasses: 'an integer 2 <= numClasses <= 256',
};

const int = () => z.number().int();

/** Options of one plugin, validated against that plugin's schema by the composition root. */
const pluginOptions = () => z.record(z.string(), z.unknown()).default({});

/** One entry of a plugin list (`gradientTransforms`, `initHooks`). */
export const pluginRefSchema = z.strictObject({
  id: z.string().min(1),
  options: z.record(z.string(), z.unknown()).default({}),
});

/**
 * The experiment configuration: every option of the official `main.py` (docs/algorithm.md#recipes) in camelCase, plus the
 * runner's own (`preset`, `model`, `dataset`, `backend`, `plugins`, ...). Defaults are the paper's MNIST recipe
 * (docs/algorithm.md#recipes): LeNet-300-100 on MNIST, density 0.05, prune rate 0.5 with cosine decay, momentum growth,
 * magnitude pruning, momentum redistribution, 100 epochs, batch 100, lr 0.1, Nesterov momentum 0.9, L2 5e-4,
 * LR ×0.1 every 25,000 mini-batches, 10 % validation split, seed 17, one iteration, SGD.
 *
 * Plugin fields (see `PLUGIN_SLOTS`: `prune`, `growth`, `redistribution`, `densityDistribution`,
 * `decaySchedule`, `lrSchedule`, `trigger`, `optimizer`) hold an id, and `<field>Options` that plugin's
 * options; `gradientTransforms` and `initHooks` are lists of `{ id, options }`. Ids are plain strings here:
 * plugins can add ids, so the composition root checks ids and options against the plugin registry.
 */
export const experimentConfigSchema = z.strictObject({
  preset: z.string().min(1).default('sparse-momentum'),
  model: z.string().min(1).default('lenet300-100'),
  dataset: z.string().min(1).default('mnist'),
  dataDir: z.string().min(1).optional(),
  density: z.number().gt(0).lte(1).default(0.05),
  pruneRate: z.number().min(0).lt(1).default(0.5),
  decaySchedule: z.string().min(1).default('cosine'),
  decayScheduleOptions: pluginOptions(),
  growth: z.string().min(1).default('momentum'),
  growthOptions: pluginOptions(),
  prune: z.string().min(1).default('magnitude'),
  pruneOptions: pluginOptions(),
  redistribution: z.string().min(1).default('momentum'),
  redistributionOptions: pluginOptions(),
  densityDistribution: z.string().min(1).default('uniform-bernoulli'),
  densityDistributionOptions: pluginOptions(),
  lrSchedule: z.string().min(1).default('step-lr'),
  lrScheduleOptions: pluginOptions(),
  trigger: z.string().min(1).default('epoch-end'),
  triggerOptions: pluginOptions(),
  epochs: int().min(1).default(100),
  batchSize: int().min(1).default(100),
  testBatchSize: int().min(1).default(100),
  lr: z.number().gt(0).default(0.1),
  momentum: z.number().min(0).lt(1).default(0.9),
  nesterov: z.boolean().default(true),
  l2: z.number().min(0).lt(1).default(5e-4),
  decayFrequency: int().min(1).default(25000),
  validSplit: z.number().min(0).lt(1).default(0.1),
  seed: int().min(0).max(4294967295).default(17),
  iters: int().min(1).max(1000).default(1),
  optimizer: z.string().min(1).default('sgd'),
  optimizerOptions: pluginOptions(),
  backend: z.enum(BACKEND_IDS).default('auto'),
  maxBatches: int().min(1).optional(),
  maxEvalBatches: int().min(1).optional(),
  /** Declared class count of an `idx` dataset (default 10); a label outside it is `E_DATA_CORRUPT`. */
  numClasses: int().min(2).max(256).optional(),
  /** Issue 9: `masked` (dense × masks, faithful), `sparse` (compact active weights, native kernels; ReLU MLPs) or `auto`. */
  execution: z.enum(['masked', 'sparse', 'auto']).default('masked'),
  /** Sparse execution: steps before each mask update that compute dense gradients for momentum/gradient growth. */
  denseGradWindow: int().min(1).default(64),
  /**
   * Sparse execution of a ReLU MLP: where its state lives (issue 9). `compact`: values, indices and optimizer
   * slots of the active weights only (no dense model, masks or slots after the initial draw, which is the
   * masked run's when the dense form fits; compact checkpoints); `dense`: the session's dense model, masks and
   * optimizer kept beside the compact layers (the form of earlier versions); `auto` (default): compact.
   */
  sparseState: z.enum(['auto', 'dense', 'compact']).default('auto'),
  /**
   * SET's ε (Mocanu et al. 2018): Erdős–Rényi connections per layer ε·(in + out) instead of a density; the
   * density is derived from it (ReLU MLPs, `erdos-renyi`/`erk` distribution). Issue 9's width sweep.
   */
  epsilon: z.number().positive().finite().optional(),
  plugins: z.array(z.string().min(1)).default([]),
  gradientTransforms: z.array(pluginRefSchema).default([]),
  initHooks: z.array(pluginRefSchema).default([]),
});

/** A fully resolved configuration (every default filled in). */
export type ExperimentConfig = z.infer<typeof experimentConfigSchema>;
/** What a user may write in a config file or give as flags: any subset. */
export type ExperimentConfigInput = z.input<typeof experimentConfigSchema>;
/** A partial configuration with nested objects partial too (recipe and preset defaults, user overrides). */
export type PartialConfig = {
  [K in keyof ExperimentConfig]?: ExperimentConfig[K] extends readonly unknown[]
    ? ExperimentConfig[K]
    : ExperimentConfig[K] extends object
      ? Partial<ExperimentConfig[K]>
      : ExperimentConfig[K];
};

/** The top-level keys a configuration may contain. */
export const CONFIG_KEYS: readonly string[] = Object.keys(experimentConfigSchema.shape);

/** The schema's defaults (the paper's MNIST recipe). */
export function defaultConfig(): ExperimentConfig {
  return experimentConfigSchema.parse({});
}
