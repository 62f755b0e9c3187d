import { ConstantSchedule, EveryKStepsTrigger } from '@sparse-learning/core';
import { DeepRGradientTransform } from '../transforms/deep-r-gradient.js';
import type { Preset, PresetInit } from './preset.js';

/**
 * DeepR draws every connection's fixed sign at initialisation: the sign of the initial weight for active
 * connections, a random ±1 for dormant ones. The `sign-flip` strategy would otherwise draw them lazily at its
 * first call, after the first step, missing a sign change during that step. Other prune strategies are left
 * alone (a user may combine the preset with their own).
 */
export function fixSignsAtInit({ masking, prune, rng }: PresetInit): void {
  const stateful = prune as unknown as { setState?: (state: unknown) => void };
  if (prune.id !== 'sign-flip' || typeof stateful.setState !== 'function') return;
  const masks = masking.readMasks();
  const signs: Record<string, Int8Array> = {};
  masking.layers.forEach((layer, l) => {
    const weights = layer.variable.dataSync();
    const draw = rng.fork(`sign:${layer.name}`);
    const s = new Int8Array(layer.size);
    for (let i = 0; i < layer.size; i++) {
      if (masks[l][i] === 1 && weights[i] !== 0) s[i] = weights[i] > 0 ? 1 : -1;
      else s[i] = draw.next() < 0.5 ? -1 : 1;
    }
    signs[layer.name] = s;
  });
  stateful.setState({ version: 1, signs });
}

/** Registry id of {@link deepRPreset}. */
export const DEEP_R_PRESET_ID = 'deep-r';

/**
 * Deep Rewiring (Bellec et al. 2018; spec §6.2): every connection has a fixed sign (the `sign-flip` prune
 * strategy draws and keeps it); after *every* optimizer step, active weights whose sign left their fixed sign
 * become dormant and exactly as many dormant connections, chosen uniformly at random among the zero positions
 * of the same layer excluding the just-pruned ones, are activated at 0 — so the number of connections is
 * constant at every step. Signs are fixed at initialisation ({@link fixSignsAtInit}). Gradients of active
 * weights get Gaussian noise `sqrt(2ηT)` and the L1 term `α·sign(w)`
 * ({@link DeepRGradientTransform}); the temperature `T` follows a per-epoch schedule (DSR CIFAR schedule
 * 1e-5 → 1e-8 @25 → 1e-12 @80 → 1e-15 @140, `deepR.temperature`). No growth controller, no redistribution.
 *
 * Deviations, following the DSR codebase the Sparse Momentum paper took its DeepR numbers from:
 * - weight decay is off by default (`l2: 0`, as DSR ran DeepR), the L1 term takes its place;
 * - noise is added to the gradient before momentum SGD (not to the update), `η = deepR.eta` (0.01);
 * - a regrown connection starts at exactly 0 and takes the fixed sign as soon as it moves; if its first move
 *   goes against the fixed sign it is pruned again at the next step (the original re-activates at θ = 0 too);
 * - the training recipe (SGD-Nesterov, step LR) is the dataset's Sparse Momentum recipe.
 */
export const deepRPreset: Preset = {
  id: DEEP_R_PRESET_ID,
  summary: 'DeepR: sign-flip prune every step, random in-place regrowth, gradient noise sqrt(2ηT) + L1, no L2',
  reference: 'Bellec et al. 2018, "Deep Rewiring", ICLR (spec §6.2)',
  defaults: () => ({
    prune: 'sign-flip',
    growth: 'random',
    redistribution: 'none',
    pruneRate: 0,
    decaySchedule: 'constant',
    densityDistribution: 'uniform-bernoulli',
    l2: 0,
    maskUpdate: { mode: 'steps', every: 1, endFraction: 1 },
  }),
  plan: ({ config, totalSteps }) => ({
    sparsity: 'dynamic',
    maskUpdater: { regrowth: 'in-place', controller: false },
    growthOptions: { exactCount: true, excludeJustPruned: true },
    trigger: new EveryKStepsTrigger({
      every: config.maskUpdate.every,
      end: Math.max(1, Math.floor(config.maskUpdate.endFraction * totalSteps)),
    }),
    // sign-flip pruning decides its own count; the schedule only feeds the event log.
    pruneRateSchedule: new ConstantSchedule({ rate: config.pruneRate }),
    gradientTransforms: [new DeepRGradientTransform(config.deepR)],
    afterInit: fixSignsAtInit,
  }),
};
