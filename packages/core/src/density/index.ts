export * from './uniform-bernoulli-distribution.js';
export * from './uniform-exact-distribution.js';
export * from './erdos-renyi-distribution.js';
export * from './erk-distribution.js';
export * from './custom-density-distribution.js';
export { scaleToTotal } from './draw.js';
