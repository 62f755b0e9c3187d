/**
 * Queue mode (issue 15): grids on many machines through BullMQ on Redis — the submitter's executor
 * (`compare/train --queue`), the worker loop (`sparse-learning worker`), URL parsing and credential redaction.
 */
export { parseQueueUrl, probeRedis, redactSecrets, redisOptions, QUEUE_PASSWORD_ENV } from './connection.js';
export type { QueueConnection } from './connection.js';
export { queueExecutor } from './submit.js';
export type { GridProgress, QueueExecutorOptions } from './submit.js';
export { runQueueWorker } from './queue-worker.js';
export type { QueueWorkerOptions, QueueWorkerSummary } from './queue-worker.js';
export { ResultCollector } from './collect.js';
export { GRID_REGISTRY, QUEUE_PREFIX, gridQueueName, type QueueJobData, type QueueJobResult } from './grid.js';
