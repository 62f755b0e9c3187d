import { INITIAL_CONTROLLER_STATE, MaskUpdater, absolute, addHighestInactive, createRng, removeLowestActive } from '@sparse-learning/core';
import type { GrowthStrategy, LayerView, MaskUpdateResult, PruneStrategy, RedistributionStrategy } from '@sparse-learning/core';

/**
 * Reference strategies that fill the slots a conformance run does not test: the Sparse Momentum rules in a few
 * lines (smallest |w| out, share by active count, largest |momentum| in), written here so that the kit depends
 * on `@sparse-learning/core` only and never on the plugin packages whose tests use it.
 */
const referencePrune: PruneStrategy = {
  id: 'reference-magnitude',
  countPolicy: 'exact',
  prune: (layer, request) => removeLowestActive(layer.mask, absolute(layer.weight), request.count),
};
const referenceRedistribution: RedistributionStrategy = {
  id: 'reference-active-count',
  statistic: (layer) => (layer.activeCount > 0 ? layer.activeCount : Number.NaN),
};
const referenceGrowth: GrowthStrategy = {
  id: 'reference-momentum',
  countPolicy: 'exact',
  requires: ['momentum'],
  grow: (layer, request) => addHighestInactive(layer.mask, absolute(layer.momentum ?? layer.weight), request.count),
};

/** The slots of an engine; the ones not given use the reference strategies above. */
export interface EngineSlots {
  readonly prune?: PruneStrategy;
  readonly redistribution?: RedistributionStrategy;
  readonly growth?: GrowthStrategy;
}

/**
 * Runs one full mask update of the core engine over `views` with the given strategies: the engine checks every
 * returned mask (length, 0/1, subset/superset, counts per policy) and throws `E_PLUGIN_CONTRACT` on a violation.
 */
export function runEngineUpdate(slots: EngineSlots, views: readonly LayerView[], seed: string | number, pruneRate = 0.3): MaskUpdateResult {
  const updater = new MaskUpdater(
    slots.prune ?? referencePrune,
    slots.redistribution ?? referenceRedistribution,
    slots.growth ?? referenceGrowth,
  );
  const baselineNonzero = views.reduce((acc, v) => acc + v.activeCount, 0);
  return updater.update({
    layers: views.map((v) => ({ name: v.name, shape: v.shape, weight: v.weight, mask: v.mask, momentum: v.momentum, gradient: v.gradient })),
    pruneRate,
    baselineNonzero,
    controller: INITIAL_CONTROLLER_STATE,
    step: 100,
    epoch: 1,
    rng: createRng(seed),
  });
}
