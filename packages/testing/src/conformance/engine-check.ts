import { INITIAL_CONTROLLER_STATE, MaskUpdater, createRng } from '@sparse-learning/core';
import type { GrowthStrategy, LayerView, MaskUpdateResult, PruneStrategy, RedistributionStrategy } from '@sparse-learning/core';
import { MomentumGrowth } from '@sparse-learning/growth';
import { MagnitudePrune } from '@sparse-learning/prune';
import { MomentumRedistribution } from '@sparse-learning/redistribution';

/** The slots of an engine; the ones not given use the Sparse Momentum defaults (magnitude, momentum, momentum). */
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
    slots.prune ?? new MagnitudePrune(),
    slots.redistribution ?? new MomentumRedistribution(),
    slots.growth ?? new MomentumGrowth(),
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
