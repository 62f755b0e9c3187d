export * from './deep-r-gradient.js';
export * from './deep-r-plugin.js';
