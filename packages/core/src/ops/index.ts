export * from './fused-dense.js';
export * from './log-softmax-nll.js';
export * from './batch-norm-train.js';
export * from './dropout-mask.js';
