/**
 * Test fixtures for the trainer tests (not exported from the package): a synthetic classification task and
 * minimal inline strategies, so core's tests do not depend on the plugin packages.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../contracts/model.js';
import type { GrowthStrategy } from '../contracts/growth-strategy.js';
import type { LayerRequirement, LayerView } from '../contracts/layer-view.js';
import type { PruneStrategy, PruneRequest } from '../contracts/prune-strategy.js';
import type { RedistributionStrategy } from '../contracts/redistribution-strategy.js';
import type { GrowthRequest } from '../contracts/growth-strategy.js';
import type { Rng } from '../rng.js';
import { absolute, addHighestInactive, removeLowestActive } from '../util/selection.js';

/** `count` batches of a linearly separable task: labels = argmax(x · T) for a random teacher `T`. */
export function syntheticBatches(rng: Rng, count: number, batchSize: number, features: number, classes: number): Batch[] {
  const teacher = Array.from({ length: features * classes }, () => rng.normal());
  const batches: Batch[] = [];
  for (let b = 0; b < count; b++) {
    const x = new Float32Array(batchSize * features);
    const y = new Int32Array(batchSize);
    for (let n = 0; n < batchSize; n++) {
      for (let f = 0; f < features; f++) x[n * features + f] = rng.normal();
      let best = -Infinity;
      for (let c = 0; c < classes; c++) {
        let score = 0;
        for (let f = 0; f < features; f++) score += x[n * features + f] * teacher[f * classes + c];
        if (score > best) {
          best = score;
          y[n] = c;
        }
      }
    }
    batches.push({ inputs: tf.tensor2d(x, [batchSize, features]), labels: tf.tensor1d(y, 'int32') });
  }
  return batches;
}

export function disposeBatches(batches: readonly Batch[]): void {
  batches.forEach((b) => tf.dispose([b.inputs, b.labels]));
}

/** Magnitude pruning (docs/algorithm.md#strategy-variants), inline. */
export class TestMagnitudePrune implements PruneStrategy {
  readonly id = 'test-magnitude';
  readonly countPolicy = 'exact' as const;
  prune(layer: LayerView, request: PruneRequest): Uint8Array {
    return removeLowestActive(layer.mask, absolute(layer.weight), request.count);
  }
}

/** Momentum redistribution (docs/algorithm.md#strategy-variants), inline: mean |momentum| over active weights. */
export class TestMomentumRedistribution implements RedistributionStrategy {
  readonly id = 'test-momentum';
  readonly requires: readonly LayerRequirement[] = ['momentum'];
  statistic(layer: LayerView): number {
    if (layer.activeCount === 0 || !layer.momentum) return Number.NaN;
    let sum = 0;
    for (let i = 0; i < layer.size; i++) if (layer.mask[i]) sum += Math.abs(layer.momentum[i]);
    return sum / layer.activeCount;
  }
}

/** Momentum (or, with `useGradient`, gradient) growth among zero positions (docs/algorithm.md#strategy-variants), inline. */
export class TestMomentumGrowth implements GrowthStrategy {
  readonly id = 'test-momentum-growth';
  readonly countPolicy = 'exact' as const;
  readonly requires: readonly LayerRequirement[];
  readonly seenGradients: (Float32Array | null)[] = [];
  constructor(private readonly useGradient = false) {
    this.requires = useGradient ? ['gradient'] : ['momentum'];
  }
  grow(layer: LayerView, request: GrowthRequest): Uint8Array {
    this.seenGradients.push(layer.gradient);
    const scores = this.useGradient ? layer.gradient : layer.momentum;
    if (!scores) throw new Error(`no ${this.useGradient ? 'gradient' : 'momentum'} for ${layer.name}`);
    return addHighestInactive(layer.mask, absolute(scores), request.count);
  }
}
