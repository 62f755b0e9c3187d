import { SparseLearningError } from '@sparse-learning/core';
import type { NamedVariable } from '@sparse-learning/core';
import type { CheckpointData } from './checkpoint-format.js';
import type { JsonValue } from './json.js';

/** What the resuming run expects of a checkpoint. Every field is optional; only given ones are checked. */
export interface CompatibilityExpectation {
  readonly modelId?: string;
  /** Shape of every model variable by name (see {@link variableShapesOf}). Both directions are checked. */
  readonly variableShapes?: Readonly<Record<string, readonly number[]>>;
  /** Names of the masked variables; the checkpoint must hold exactly these masks. */
  readonly maskNames?: readonly string[];
  /** Optimizer id (`sgd`, `adam`); a different optimizer's slots cannot be resumed. */
  readonly optimizerId?: string;
  /**
   * Config values that must be equal (compared as JSON) to the same top-level keys of the checkpoint's
   * `config`, e.g. `{ dataset: 'mnist', density: 0.05, seed: 1 }`.
   */
  readonly config?: Readonly<Record<string, JsonValue | undefined>>;
}

/** `{ name: shape }` of a model's variables, for {@link CompatibilityExpectation.variableShapes}. */
export function variableShapesOf(variables: readonly NamedVariable[]): Record<string, number[]> {
  return Object.fromEntries(variables.map((v) => [v.name, [...v.variable.shape]]));
}

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/**
 * Checks that `checkpoint` can resume the described run; collects *every* difference before throwing.
 *
 * @throws SparseLearningError `E_CHECKPOINT_INCOMPATIBLE` whose message lists what differs (model id,
 *   missing/extra variables, shapes, masks, optimizer, config values); `details.differences` has the list.
 */
export function assertCompatible(checkpoint: CheckpointData, expected: CompatibilityExpectation): void {
  const differences: string[] = [];
  if (expected.modelId !== undefined && expected.modelId !== checkpoint.modelId) {
    differences.push(`model is '${checkpoint.modelId}' in the checkpoint, '${expected.modelId}' in this run`);
  }
  const saved = checkpoint.tensors.variables;
  if (expected.variableShapes) {
    for (const [name, shape] of Object.entries(expected.variableShapes)) {
      const s = saved[name];
      if (!s) differences.push(`variable '${name}' ${fmt(shape)} is missing from the checkpoint`);
      else if (s.shape.length !== shape.length || s.shape.some((d, i) => d !== shape[i])) {
        differences.push(`variable '${name}' has shape ${fmt(s.shape)} in the checkpoint, ${fmt(shape)} in the model`);
      }
    }
    for (const name of Object.keys(saved)) {
      if (!(name in expected.variableShapes)) differences.push(`the checkpoint has variable '${name}' that the model lacks`);
    }
  }
  if (expected.maskNames) {
    const want = new Set(expected.maskNames);
    for (const name of want) if (!(name in checkpoint.tensors.masks)) differences.push(`mask '${name}' is missing from the checkpoint`);
    for (const name of Object.keys(checkpoint.tensors.masks)) if (!want.has(name)) differences.push(`the checkpoint masks '${name}', which this run does not mask`);
  }
  for (const [name, mask] of Object.entries(checkpoint.tensors.masks)) {
    const owner = saved[name];
    if (owner && owner.values.length !== mask.length) {
      differences.push(`mask '${name}' has ${mask.length} entries for a variable of ${owner.values.length}`);
    }
  }
  const optimizer = checkpoint.tensors.optimizer;
  if (expected.optimizerId !== undefined && optimizer && optimizer.id !== expected.optimizerId) {
    differences.push(`optimizer is '${optimizer.id}' in the checkpoint, '${expected.optimizerId}' in this run`);
  }
  if (expected.config) {
    const config = (checkpoint.config ?? {}) as Record<string, JsonValue>;
    for (const [key, value] of Object.entries(expected.config)) {
      const a = stableJson(config[key]);
      const b = stableJson(value);
      if (a !== b) differences.push(`config '${key}' is ${a} in the checkpoint, ${b} in this run`);
    }
  }
  if (differences.length > 0) {
    throw new SparseLearningError(
      'E_CHECKPOINT_INCOMPATIBLE',
      `checkpoint (epoch ${checkpoint.epoch}, step ${checkpoint.step}) does not match this run: ${differences.join('; ')}`,
      { differences },
    );
  }
}
