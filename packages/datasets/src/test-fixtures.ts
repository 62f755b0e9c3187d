/**
 * Test-only helpers (not exported from the package): temporary directories with generated IDX and CIFAR-10
 * files, and tfjs backend setup.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { SparseLearningError } from '@sparse-learning/core';
import type { SparseLearningErrorCode } from '@sparse-learning/core';

/** Switches tfjs to the pure-JS cpu backend (the tests' backend). */
export async function useCpuBackend(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** A fresh temporary directory; `cleanup()` removes it. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `sparse-learning-datasets-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `bytes` to `dir/name`, gzip-compressed when `gzip`; returns the path. */
export function writeBytes(dir: string, name: string, bytes: Uint8Array, gzip = false): string {
  const path = join(dir, name);
  writeFileSync(path, gzip ? gzipSync(bytes) : bytes);
  return path;
}

/** Runs `fn` and returns the `SparseLearningError` it throws (fails the test when it does not throw one). */
export async function catchCoded(fn: () => unknown, code: SparseLearningErrorCode): Promise<SparseLearningError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof SparseLearningError && error.code === code) return error;
    throw new Error(`expected a SparseLearningError ${code}, got ${String(error)}`);
  }
  throw new Error(`expected a SparseLearningError ${code}, nothing was thrown`);
}

/**
 * One CIFAR-10 binary record: `label`, then planes R, G, B of 32x32 bytes. Pixel value of channel c at (y, x)
 * is `pixel(c, y, x)`.
 */
export function cifarRecord(label: number, pixel: (c: number, y: number, x: number) => number): Uint8Array {
  const out = new Uint8Array(3073);
  out[0] = label;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) out[1 + c * 1024 + y * 32 + x] = pixel(c, y, x) & 0xff;
  }
  return out;
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
