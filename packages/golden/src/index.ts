/**
 * @sparse-learning/golden (private) — checks the engine, the optimizer and the schedules against the official
 * PyTorch reference cases vendored in `cases/` (mask update, SGD, prune-rate and LR schedules; paper §3,
 * docs/algorithm.md). Not published: it depends on the built-in plugins, which depend on the published
 * `@sparse-learning/testing` conformance kit for their own tests.
 */
export * from './schemas.js';
export * from './compare.js';
export * from './mask-update-golden.js';
export * from './optimizer-golden.js';
export * from './schedule-golden.js';
export * from './run-directory.js';
