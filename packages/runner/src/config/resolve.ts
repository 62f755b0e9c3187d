import { existsSync, readFileSync, statSync } from 'node:fs';
import { SparseLearningError, outOfRangeError, unknownIdError } from '@sparse-learning/core';
import { datasetIds } from '@sparse-learning/datasets';
import { ER_MLP_FAMILY, denseChainSpec, isModelId, modelFamilies, modelIds, modelInfo } from '@sparse-learning/models';
import type { z } from 'zod';
import { getPreset } from '../presets/index.js';
import { mergePluginSlots, normalizePluginFields, PLUGIN_SLOTS } from './plugin-slots.js';
import { datasetRecipe } from './recipes.js';
import {
  CONFIG_KEYS,
  FIELD_RANGES,
  experimentConfigSchema,
  type ExperimentConfig,
  type PartialConfig,
} from './schema.js';

/** A named layer of user configuration (a config file or the command line), for error messages. */
export interface ConfigSource {
  /** E.g. `config file ./exp.json` or `command line`. */
  readonly name: string;
  readonly values: Record<string, unknown>;
  /** How to name a field of this layer in messages (e.g. `--prune-rate on the command line`). */
  readonly describe?: (field: string) => string;
}

/**
 * Parses JSON text of a configuration file.
 * @throws `E_CONFIG_PARSE` naming the file and the JSON error; `E_CONFIG_INVALID` when it is not an object.
 */
export function parseConfigJson(text: string, source: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SparseLearningError('E_CONFIG_PARSE', `${source} is not valid JSON: ${reason}`, { source }, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SparseLearningError('E_CONFIG_INVALID', `${source} must hold a JSON object of options; valid keys: ${CONFIG_KEYS.join(', ')}`, { source });
  }
  return value as Record<string, unknown>;
}

/** Reads and parses a JSON configuration file (`E_CONFIG_INVALID` when it does not exist). */
export function readConfigFile(path: string): ConfigSource {
  if (!existsSync(path)) {
    throw new SparseLearningError('E_CONFIG_INVALID', `config file '${path}' does not exist`, { path });
  }
  if (statSync(path).isDirectory()) {
    throw new SparseLearningError('E_CONFIG_INVALID', `config file '${path}' is a directory; --config takes a JSON file of options`, { path });
  }
  const name = `config file ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SparseLearningError('E_CONFIG_INVALID', `config file '${path}' cannot be read: ${(error as Error).message}`, { path }, { cause: error });
  }
  return { name, values: parseConfigJson(text, name) };
}

function fieldOf(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** The range text of a field, ignoring array indices (`deepR.temperature.0.value` → `deepR.temperature.value`). */
function rangeOf(field: string): string | undefined {
  return FIELD_RANGES[field] ?? FIELD_RANGES[field.split('.').filter((p) => !/^\d+$/.test(p)).join('.')];
}

/**
 * Turns the first zod issue into a coded {@link SparseLearningError} that names the field, the bad value, the
 * layer it came from, and the valid choices or range:
 * - enum value not allowed → `E_UNKNOWN_ID` (lists the choices);
 * - number out of bounds → `E_OUT_OF_RANGE` (states the range);
 * - unknown key, wrong type, non-integer → `E_CONFIG_INVALID`.
 */
export function configIssueError(
  issues: readonly z.core.$ZodIssue[],
  input: Record<string, unknown>,
  origin: (field: string) => string,
): SparseLearningError {
  const issue = issues[0];
  const field = fieldOf(issue.path);
  const value = issue.path.reduce<unknown>(
    (acc, key) => (acc !== null && typeof acc === 'object' ? (acc as Record<PropertyKey, unknown>)[key] : undefined),
    input,
  );
  const where = origin(field);
  const shown = typeof value === 'number' ? String(value) : JSON.stringify(value);
  switch (issue.code) {
    case 'invalid_value': {
      const valid = (issue.values ?? []).map(String);
      const error = unknownIdError(field, String(value), valid);
      return new SparseLearningError('E_UNKNOWN_ID', `${error.message.replace(/^\[E_UNKNOWN_ID\] /, '')} (${where})`, {
        ...error.details,
        field,
        source: where,
      });
    }
    case 'too_small':
    case 'too_big': {
      if ((issue as { origin?: string }).origin === 'array') {
        return new SparseLearningError('E_CONFIG_INVALID', `${field} = ${shown} (${where}): ${issue.message}`, { field, value, source: where });
      }
      const range = rangeOf(field) ?? issue.message;
      const error = outOfRangeError(field, value, range);
      return new SparseLearningError('E_OUT_OF_RANGE', `${error.message.replace(/^\[E_OUT_OF_RANGE\] /, '')} (${where})`, {
        ...error.details,
        source: where,
      });
    }
    case 'unrecognized_keys': {
      const keys = issue.keys;
      const scope = field === '' ? 'configuration' : field;
      const validKeys = field === '' ? CONFIG_KEYS : Object.keys(nestedShape(field));
      return new SparseLearningError(
        'E_CONFIG_INVALID',
        `unknown ${scope} option${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')} (${origin(field === '' ? keys[0] : `${field}.${keys[0]}`)}); valid options: ${validKeys.join(', ')}`,
        { field: field === '' ? keys[0] : `${field}.${keys[0]}`, keys, valid: validKeys, source: where },
      );
    }
    case 'invalid_type': {
      const expected = issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`;
      const range = rangeOf(field);
      return new SparseLearningError(
        'E_CONFIG_INVALID',
        `${field} = ${shown} (${where}) is invalid: expected ${expected}${range ? ` (${range})` : ''}`,
        { field, value, expected: issue.expected, source: where },
      );
    }
    default:
      return new SparseLearningError('E_CONFIG_INVALID', `${field} = ${shown} (${where}) is invalid: ${issue.message}`, {
        field,
        value,
        source: where,
      });
  }
}

function nestedShape(field: string): Record<string, unknown> {
  const shape = experimentConfigSchema.shape as Record<string, unknown>;
  const inner = shape[field] as { def?: { innerType?: { shape?: Record<string, unknown> } } } | undefined;
  return inner?.def?.innerType?.shape ?? {};
}

const NESTED = new Set<string>([]);
const PLUGIN_OPTION_FIELDS = new Set(PLUGIN_SLOTS.map((s) => s.optionsField));

/**
 * Merges configuration layers: later layers win; nested option groups merge key by key; a plugin's options
 * belong to its id (see {@link mergePluginSlots}).
 */
export function mergeLayers(...layers: readonly Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const raw of layers) {
    const layer = normalizePluginFields(raw);
    mergePluginSlots(out, layer);
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined || PLUGIN_OPTION_FIELDS.has(key)) continue;
      const previous = out[key];
      if (
        NESTED.has(key) &&
        typeof value === 'object' && value !== null && !Array.isArray(value) &&
        typeof previous === 'object' && previous !== null && !Array.isArray(previous)
      ) {
        out[key] = { ...(previous as object), ...(value as object) };
      } else {
        out[key] = value;
      }
    }
  }
  return out;
}

/** The layered result: the configuration plus where each top-level field came from. */
export interface ResolvedConfig {
  readonly config: ExperimentConfig;
  /** `field → layer name` (`default`, `recipe cifar10`, `preset set`, `config file x.json`, `command line`). */
  readonly origins: Readonly<Record<string, string>>;
  /** Contradictions resolved against the user (a preset overriding an explicit value): print and record them. */
  readonly warnings: readonly string[];
}

function stringField(sources: readonly ConfigSource[], key: string): { value: string; source: string } | undefined {
  for (let i = sources.length - 1; i >= 0; i--) {
    const value = sources[i].values[key];
    if (value !== undefined) return { value: value as string, source: sources[i].name };
  }
  return undefined;
}

/**
 * Resolves the configuration of one experiment from user layers (lowest precedence first, e.g. a config file
 * then the command line), over the preset's defaults, over the dataset recipe (docs/algorithm.md#recipes), over the schema
 * defaults (the paper's MNIST recipe). The dataset defaults to the model's own (`modelInfo(model).dataset`).
 *
 * Validates everything with the zod schema, then the preset, model and dataset ids. Strategy ids
 * (`growth`, `prune`, `redistribution`, `densityDistribution`) are checked by the composition root, which
 * knows the plugins.
 *
 * @throws SparseLearningError `E_CONFIG_INVALID`, `E_OUT_OF_RANGE` or `E_UNKNOWN_ID`, naming the field, the
 *   bad value, the layer it came from and the valid choices or range.
 */
export function resolveConfig(...sources: readonly ConfigSource[]): ResolvedConfig {
  // Ids that select the other layers are checked first, so their errors are about them and not a side effect.
  for (const key of ['preset', 'model', 'dataset']) {
    const found = stringField(sources, key);
    if (found && typeof found.value !== 'string') {
      throw new SparseLearningError('E_CONFIG_INVALID', `${key} = ${JSON.stringify(found.value)} (${found.source}) is invalid: expected a string id`, {
        field: key,
        value: found.value,
        source: found.source,
      });
    }
  }
  const presetField = stringField(sources, 'preset');
  const presetId = presetField?.value ?? 'sparse-momentum';
  const preset = withSource(() => getPreset(presetId), presetField?.source);
  const modelField = stringField(sources, 'model');
  const model = modelField?.value ?? 'lenet300-100';
  if (!isModelId(model)) throw withOrigin(unknownIdError('model', model, [...modelIds, ...modelFamilies]), modelField?.source);
  const datasetField = stringField(sources, 'dataset');
  const dataset = datasetField?.value ?? modelInfo(model).dataset;
  if (!(datasetIds as readonly string[]).includes(dataset)) {
    throw withOrigin(unknownIdError('dataset', dataset, datasetIds), datasetField?.source ?? `model ${model}'s dataset`);
  }

  const recipe = datasetRecipe(dataset, model);
  const presetDefaults = preset.config;
  const layers: ConfigSource[] = [
    { name: `dataset recipe ${dataset}`, values: { ...recipe, dataset } as Record<string, unknown> },
    { name: `preset ${preset.id}`, values: normalizePluginFields(presetDefaults as Record<string, unknown>) },
    ...sources.map((source) => ({ ...source, values: normalizePluginFields(source.values) })),
  ];
  const merged = mergeLayers(...layers.map((l) => l.values));
  const origins: Record<string, string> = {};
  for (const layer of layers) for (const key of Object.keys(layer.values)) origins[key] = layer.name;
  const originOf = (field: string): string => {
    const top = field.split('.')[0];
    // Nested fields: find the last layer that set this exact nested key.
    for (let i = layers.length - 1; i >= 0; i--) {
      let node: unknown = layers[i].values;
      let found = true;
      for (const part of field.split('.')) {
        if (node !== null && typeof node === 'object' && part in (node as object)) node = (node as Record<string, unknown>)[part];
        else {
          found = false;
          break;
        }
      }
      if (found) return layers[i].describe?.(field) ?? layers[i].name;
    }
    return origins[top] ?? 'default';
  };

  const parsed = experimentConfigSchema.safeParse(merged);
  if (!parsed.success) throw configIssueError(parsed.error.issues, merged, originOf);
  const config = parsed.data;
  const warnings: string[] = [];
  if (preset.sparsity === 'dense') {
    // The dense baseline trains every weight: an explicit density is contradicted, so say so (docs/algorithm.md#recipes --dense).
    if (config.density !== 1 && sources.some((source) => source.values.density !== undefined)) {
      warnings.push(`--preset dense trains every weight: density ${config.density} (${originOf('density')}) is ignored and the run is recorded with density 1`);
    }
    (config as { density: number }).density = 1;
  }
  if (config.epsilon !== undefined) {
    (config as { density: number }).density = densityOfEpsilon(config, sources, originOf);
    origins.density = `--epsilon ${config.epsilon}`;
  }
  return { config, origins, warnings };
}

/**
 * The overall density at which the Erdős–Rényi distribution gives every layer ε·(in + out) connections (SET's
 * ε, Mocanu et al. 2018; layers where that exceeds in·out are dense): `Σ min(in·out, ε·(in + out)) / Σ in·out`
 * over the model's Dense layers. RigL's scaling of that density gives back ε exactly
 * (docs/algorithm.md#initialisation). Defined for the ReLU MLPs whose structure is known without building
 * them (`denseChainSpec`).
 */
function densityOfEpsilon(config: ExperimentConfig, sources: readonly ConfigSource[], originOf: (field: string) => string): number {
  const epsilon = config.epsilon!;
  const fail = (message: string, details: Record<string, unknown>) =>
    new SparseLearningError('E_CONFIG_INVALID', `--epsilon ${epsilon} (${originOf('epsilon')}): ${message}`, { field: 'epsilon', value: epsilon, ...details });
  if (sources.some((source) => source.values.density !== undefined)) {
    throw fail(`sets the density itself; drop --density ${String(config.density)} (${originOf('density')})`, { valid: ['--epsilon', '--density'] });
  }
  if (config.densityDistribution !== 'erdos-renyi' && config.densityDistribution !== 'erk') {
    throw fail(`counts Erdős–Rényi connections; --density-distribution is '${config.densityDistribution}'`, { valid: ['erdos-renyi', 'erk'] });
  }
  const spec = denseChainSpec(config.model);
  if (!spec) throw fail(`is defined for ReLU MLPs (lenet300-100, set-mlp, ${ER_MLP_FAMILY}); model '${config.model}' is not one`, { valid: ['lenet300-100', 'set-mlp', ER_MLP_FAMILY] });
  let active = 0;
  let total = 0;
  for (const l of spec.layers) {
    const size = l.inFeatures * l.outFeatures;
    active += Math.min(size, epsilon * (l.inFeatures + l.outFeatures));
    total += size;
  }
  return active / total;
}

function withOrigin(error: SparseLearningError, source: string | undefined): SparseLearningError {
  if (!source) return error;
  return new SparseLearningError(error.code, `${error.message.replace(/^\[[A-Z_]+\] /, '')} (${source})`, { ...error.details, source });
}

function withSource<T>(fn: () => T, source: string | undefined): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SparseLearningError) throw withOrigin(error, source);
    throw error;
  }
}

/** Converts a partial config (recipes, presets) to a plain record. */
export function asValues(partial: PartialConfig): Record<string, unknown> {
  return partial as Record<string, unknown>;
}
