import { createHash } from 'node:crypto';
import { SparseLearningError } from '@sparse-learning/core';
import type { ExperimentConfig } from '../config/schema.js';

/**
 * Configuration fields that do not change what a run computes (the same files elsewhere, another backend of
 * the same arithmetic, the masked or the sparse execution of the same engine — issue 9): left out of a run's
 * identity, as `train --resume` accepts other values for them.
 */
export const IDENTITY_EXCLUDED_FIELDS: readonly string[] = ['backend', 'dataDir', 'execution', 'sparseState'];

/** JSON with object keys sorted, so that equal configurations give equal text. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A run's identity: `sha256:` + the SHA-256 of its resolved configuration (sorted keys, without
 * {@link IDENTITY_EXCLUDED_FIELDS}). Recorded in `config.json` (`configHash`) and in every checkpoint
 * (`extra.configHash`), so that `train --resume` and `export` refuse a checkpoint of another run.
 */
export function configIdentity(config: ExperimentConfig | Record<string, unknown>): string {
  const fields = { ...(config as Record<string, unknown>) };
  for (const key of IDENTITY_EXCLUDED_FIELDS) delete fields[key];
  return `sha256:${createHash('sha256').update(stableJson(fields)).digest('hex')}`;
}

/** The top-level fields in which two configurations differ (identity fields only), as `field: a vs b`. */
export function identityDifferences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !IDENTITY_EXCLUDED_FIELDS.includes(k)).sort();
  return keys.filter((k) => stableJson(a[k]) !== stableJson(b[k])).map((k) => `${k}: ${stableJson(a[k])} vs ${stableJson(b[k])}`);
}

/**
 * Refuses initial masks that leave a layer without a single active weight (a density too small for the
 * model): such a layer cuts the network (every output is constant), its redistribution statistic is NaN, and
 * the official code crashes later (docs/algorithm.md#the-mask-update). `E_OUT_OF_RANGE` names the layer and a density that gives
 * every layer at least one weight in expectation.
 */
export function checkLayersPopulated(
  layers: readonly { readonly name: string; readonly size: number; readonly active: number }[],
  density: number,
  distribution: string,
): void {
  const empty = layers.filter((l) => l.active === 0);
  if (empty.length === 0) return;
  const smallest = Math.min(...layers.map((l) => l.size));
  const first = empty[0];
  const others = empty.length > 1 ? ` (and ${empty.slice(1).map((l) => `'${l.name}'`).join(', ')})` : '';
  throw new SparseLearningError(
    'E_OUT_OF_RANGE',
    `density = ${density} leaves layer '${first.name}' (${first.size.toLocaleString('en-US')} weights)${others} without a single active weight (density distribution ${distribution}); every layer needs at least one: use --density of at least ${Number((1 / smallest).toPrecision(2))} (one weight of the smallest layer, ${smallest.toLocaleString('en-US')} weights, in expectation) or a distribution such as erdos-renyi`,
    { field: 'density', value: density, layer: first.name, layers: empty.map((l) => l.name), range: `density >= ${1 / smallest} for this model` },
  );
}
