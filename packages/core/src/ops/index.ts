export * from './fused-dense.js';
