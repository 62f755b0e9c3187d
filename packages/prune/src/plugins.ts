import { definePlugin, definePluginModule, option } from '@sparse-learning/core';
import { ADAPTIVE_THRESHOLD_PRUNE_ID, AdaptiveThresholdPrune } from './adaptive-threshold-prune.js';
import { deepRGradientPlugin } from './deep-r-gradient-plugin.js';
import { DEEP_R_SIGNS_HOOK_ID, DeepRSignsHook } from './deep-r-signs-hook.js';
import { GLOBAL_MAGNITUDE_PRUNE_ID, GlobalMagnitudePrune } from './global-magnitude-prune.js';
import { MAGNITUDE_PRUNE_ID, MagnitudePrune } from './magnitude-prune.js';
import { SET_PRUNE_ID, SetPrune } from './set-prune.js';
import { SIGN_FLIP_PRUNE_ID, SIGN_SOURCES, SignFlipPrune, type SignSource } from './sign-flip-prune.js';

/** Magnitude pruning, the Sparse Momentum default (paper §3; docs/algorithm.md#strategy-variants). */
export const magnitudePrunePlugin = definePlugin({
  kind: 'prune',
  id: MAGNITUDE_PRUNE_ID,
  summary: 'remove the active weights with the smallest |w| (Sparse Momentum, official)',
  options: {},
  create: () => new MagnitudePrune(),
});

/** The SET rule (Mocanu et al. 2018). */
export const setPrunePlugin = definePlugin({
  kind: 'prune',
  id: SET_PRUNE_ID,
  summary: 'half the smallest positive, half the largest negative weights (SET)',
  options: {},
  create: () => new SetPrune(),
});

/** One threshold for every layer, searched as the official code does. */
export const globalMagnitudePrunePlugin = definePlugin({
  kind: 'prune',
  id: GLOBAL_MAGNITUDE_PRUNE_ID,
  summary: 'one global |w| threshold searched to remove p·baseline weights (official global_magnitude)',
  options: {
    initialThreshold: option.number(0.001, 'starting threshold τ (official prune_threshold)', { greaterThan: 0 }),
    tolerance: option.number(0.02, 'accepted relative miss of the removal target', { min: 0, lessThan: 1 }),
    initialIncrement: option.number(0.2, 'starting multiplicative search step', { greaterThan: 0, lessThan: 1 }),
    exactThreshold: option.boolean(false, 'use the exact k-th smallest |w| instead of the official search'),
    maxIterations: option.integer(100_000, 'safety bound on search iterations', { min: 1 }),
  },
  create: (options) => new GlobalMagnitudePrune(options),
});

/** DeepR's sign-flip rule (Bellec et al. 2018). */
export const signFlipPrunePlugin = definePlugin({
  kind: 'prune',
  id: SIGN_FLIP_PRUNE_ID,
  summary: 'remove active weights whose sign left their fixed sign (DeepR)',
  options: {
    signs: option.oneOf<SignSource>(
      SIGN_SOURCES,
      'fixed',
      "fixed: drawn once, a regrown connection keeps it (Bellec et al.); first-move: a regrown connection takes the sign of its first move (DSR codebase)",
    ),
  },
  create: (options) => new SignFlipPrune(options),
});

/** DSR's adaptive global threshold (Mostafa & Wang 2019, §3). */
export const adaptiveThresholdPrunePlugin = definePlugin({
  kind: 'prune',
  id: ADAPTIVE_THRESHOLD_PRUNE_ID,
  summary: 'remove every active |w| < H, H adapted towards N_p pruned per update (DSR)',
  options: {
    initialThreshold: option.number(1e-3, 'starting threshold H', { greaterThan: 0 }),
    targetPruned: option.number(600, 'target pruned per reallocation, N_p (DSR --n-prune-params)', { min: 0 }),
    tolerance: option.number(0.1, 'fractional tolerance of N_p', { min: 0, lessThan: 1 }),
    gain: option.number(2, 'factor H is multiplied or divided by', { greaterThan: 1 }),
  },
  create: (options) => new AdaptiveThresholdPrune(options),
});

/** DeepR's fixed signs, drawn at initialisation for the `sign-flip` prune strategy. */
export const deepRSignsHookPlugin = definePlugin({
  kind: 'init-hook',
  id: DEEP_R_SIGNS_HOOK_ID,
  summary: "fix every connection's sign at initialisation for sign-flip pruning (DeepR)",
  options: {},
  create: () => new DeepRSignsHook(),
});

/** Every plugin of `@sparse-learning/prune`, as one module (the shape a user's plugin file exports too). */
export const prunePlugins = definePluginModule({
  name: '@sparse-learning/prune',
  plugins: [
    magnitudePrunePlugin,
    setPrunePlugin,
    globalMagnitudePrunePlugin,
    signFlipPrunePlugin,
    adaptiveThresholdPrunePlugin,
    deepRSignsHookPlugin,
    deepRGradientPlugin,
  ],
});
export * from './deep-r-signs-hook.js';
