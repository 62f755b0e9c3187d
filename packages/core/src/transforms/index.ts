export * from './deep-r-gradient.js';
export * from './deep-r-plugin.js';
export * from './deep-r-terms.js';
export * from './backend-sign.js';
