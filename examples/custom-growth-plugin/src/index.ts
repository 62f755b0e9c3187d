export * from './momentum-gradient-growth.js';
export * from './compose.js';
