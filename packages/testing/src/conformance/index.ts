export * from './fixtures.js';
export * from './options.js';
export * from './tf-env.js';
export * from './engine-check.js';
export * from './prune-conformance.js';
export * from './growth-conformance.js';
export * from './redistribution-conformance.js';
export * from './checks.js';
