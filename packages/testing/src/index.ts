/**
 * @sparse-learning/testing — conformance suites any prune, redistribution or growth strategy runs in one line,
 * and the golden runner that checks the engine, optimizer and schedules against the official PyTorch
 * reference cases (`shared/golden`, spec §1.5–§1.11, §4.2).
 */
export * from './conformance/index.js';
export * from './golden/index.js';
