/**
 * @sparse-learning/prune — prune strategies for the sparse-training engine (docs/algorithm.md#strategy-variants):
 * `magnitude` (Sparse Momentum's default), `set` (the rule SET intends), `global-magnitude`, `sign-flip` with
 * the `deep-r-signs` init hook and the `deep-r-noise-l1` gradient transform (DeepR's plugins), `adaptive-threshold` (DSR). {@link prunePlugins} is the package's
 * plugin module.
 */
export * from './plugins.js';
export * from './magnitude-prune.js';
export * from './set-prune.js';
export * from './global-magnitude-prune.js';
export * from './sign-flip-prune.js';
export * from './adaptive-threshold-prune.js';
export * from './deep-r-gradient.js';
export * from './deep-r-gradient-plugin.js';
export * from './deep-r-terms.js';
export * from './backend-sign.js';
