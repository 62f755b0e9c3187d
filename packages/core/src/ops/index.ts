export * from './fused-dense.js';
export * from './log-softmax-nll.js';
