/**
 * @sparse-learning/testing — conformance suites any prune, redistribution or growth strategy runs in one line
 * (`describePruneConformance('mine', () => new Mine())`), plus the leak and invariant helpers they use. It
 * depends on `@sparse-learning/core` only; the golden reference checks live in the private
 * `@sparse-learning/golden` workspace package.
 */
export * from './conformance/index.js';
