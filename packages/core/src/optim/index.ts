export * from './sgd-optimizer.js';
export * from './adam-optimizer.js';
