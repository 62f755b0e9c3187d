import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Memory access of the base backend (wasm heap views or the cpu backend's own arrays), the one thing the
 * native kernels and their deferred outputs both need; a file of its own so neither imports the other for it.
 * Outputs must all be allocated before any view is taken (the wasm heap can grow and move).
 */
export interface TensorStore {
  /** Allocates an uninitialised float32 output on the backend. */
  alloc(backend: KernelBackend, shape: number[]): TensorInfo;
  /** A zero-copy Float32Array view of a float32 tensor's data. */
  view(backend: KernelBackend, t: TensorInfo): Float32Array;
  /** Frees a temporary allocated with {@link TensorStore.alloc} (decrements the data's reference count). */
  free(backend: KernelBackend, t: TensorInfo): void;
  /** Increments the base backend's reference count of a data id (for aliasing outputs and held inputs). */
  retain?(backend: KernelBackend, dataId: object): void;
  /** Whether the base backend still holds a data id (false once its reference count reached 0). */
  exists?(backend: KernelBackend, dataId: object): boolean;
  /**
   * How many tensors (and held references) share a data id on the base backend. Only a store whose reads
   * copy the data (wasm's `readSync` slices the heap; the cpu backend's `dataSync` hands out its own array)
   * provides it: a kernel may then update data in place when the count is 1 — nothing else can observe it.
   */
  soleOwner?(backend: KernelBackend, dataId: object): boolean;
}
