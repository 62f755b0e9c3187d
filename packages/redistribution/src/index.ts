/**
 * @sparse-learning/redistribution — redistribution statistics for the sparse-training engine
 * (docs/algorithm.md#strategy-variants): `momentum` (Sparse Momentum's default), `magnitude`, `uniform` (alias
 * `none`, the paper's "no redistribution"), `nonzero`, `surviving` (DSR, measured after pruning).
 * {@link redistributionPlugins} is the package's plugin module.
 */
export * from './plugins.js';
export * from './momentum-redistribution.js';
export * from './magnitude-redistribution.js';
export * from './uniform-redistribution.js';
export * from './nonzero-redistribution.js';
export * from './surviving-redistribution.js';
export { meanAbsOverActive } from './mean-over-active.js';
