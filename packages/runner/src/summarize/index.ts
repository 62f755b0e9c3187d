export * from './collect.js';
export * from './published.js';
export * from './tables.js';
export * from './figure.js';
export * from './readme-block.js';
export * from './write-summary.js';
export * from './html.js';
