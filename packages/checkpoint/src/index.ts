/**
 * @sparse-learning/checkpoint — atomic file writes, versioned and checksummed checkpoints that resume a
 * sparse-training run exactly (weights, masks, optimizer slots, RNG streams, trainer and strategy states),
 * and a compact sparse model export (values + gap-encoded indices) with a loader for inference.
 * Implements the library side of issue 5 (checkpoint, exact resume, bad input, sparse export).
 */
export * from './version.js';
export type { JsonValue } from './json.js';
export * from './atomic-write.js';
export { CHECKSUM_BYTES, PREFIX_BYTES } from './container.js';
export * from './tensors.js';
export * from './checkpoint-format.js';
export * from './checkpoint-store.js';
export * from './compatibility.js';
export * from './index-encoding.js';
export * from './sparse-export.js';
export * from './sparse-import.js';
export * from './wide-index-encoding.js';
