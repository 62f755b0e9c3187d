export * from './momentum-gradient-growth.js';
export * from './compose.js';
export { default as customGrowthPlugins } from './plugin.js';
