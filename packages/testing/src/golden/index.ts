export * from './schemas.js';
export * from './compare.js';
export * from './mask-update-golden.js';
export * from './optimizer-golden.js';
export * from './schedule-golden.js';
export * from './run-directory.js';
