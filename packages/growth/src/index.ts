/**
 * @sparse-learning/growth — growth strategies for the Sparse Momentum engine (paper §3; docs/algorithm.md#strategy-variants):
 * `momentum` (default), `random`, `gradient` (RigL). {@link growthPlugins} is the package's plugin module.
 */
export * from './momentum-growth.js';
export * from './random-growth.js';
export * from './gradient-growth.js';
export * from './plugins.js';
