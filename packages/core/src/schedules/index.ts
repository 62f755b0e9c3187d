export * from './cosine-decay-schedule.js';
export * from './linear-decay-schedule.js';
export * from './constant-schedule.js';
export * from './step-lr-schedule.js';
export * from './constant-lr-schedule.js';
