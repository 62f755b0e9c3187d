export * from './options.js';
export * from './plugin.js';
export * from './registry.js';
export * from './builtin/core-module.js';
