export * from './types.js';
export * from './mask-updater.js';
export * from './redistribute.js';
export * from './proportional-regrowth.js';
export * from './controller.js';
