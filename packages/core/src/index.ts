/**
 * @sparse-learning/core — the sparse-training engine: contracts and DI tokens, masking, the Sparse Momentum
 * mask-update cycle (Dettmers & Zettlemoyer 2019, §3 of the paper; docs/algorithm.md#the-mask-update), optimizers with readable
 * state, schedules, density distributions, triggers, the seeded RNG, errors and events.
 */
import 'reflect-metadata';

export * from './errors.js';
export * from './rng.js';
export * from './logger.js';
export * from './events.js';
export * from './tokens.js';
export * from './contracts/index.js';
export * from './plugins/index.js';
export * from './util/selection.js';
export * from './util/mask-words.js';
export * from './mask-update/index.js';
export * from './optim/index.js';
export * from './schedules/index.js';
export * from './density/index.js';
export * from './triggers/index.js';
export * from './masking/index.js';
export * from './training/index.js';
export * from './losses/nll-loss.js';
export * from './ops/index.js';
