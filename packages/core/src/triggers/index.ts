export * from './epoch-end-trigger.js';
export * from './every-k-steps-trigger.js';
export * from './rewire-period-trigger.js';
