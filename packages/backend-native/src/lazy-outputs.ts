/**
 * Deferred kernel outputs for the native backend (issue 6: skip gradients nobody reads).
 *
 * Why: the gradients of `tf.fused.conv2d` / `tf.fused.matMul` (what every `tf.layers` conv and dense runs)
 * are `customGrad` closures that compute the input gradient *and* the weight gradient eagerly, even for the
 * first layer, whose input (the data batch) needs no gradient: tfjs then disposes that tensor unread. For
 * LeNet-300-100 this is the 100×300·300×784 product (~30 % of the step's GEMM FLOPs); for LeNet-5 conv1's
 * `Conv2DBackpropInput`. A kernel registered here allocates its output at once (so memory and shapes are as
 * usual) but computes it only when something reads it: another kernel of the same backend takes it as input,
 * or `dataSync`/`data` reads it. If it is disposed first, the work is skipped.
 *
 * Safety: every kernel registered under a native backend materialises pending inputs before it runs
 * ({@link LazyOutputs.materializeInputs}); the backend instance's `readSync`/`read` materialise before reading
 * and its `disposeData` drops a pending computation once the data is freed. The inputs of a pending
 * computation are retained (backend reference count + 1) until it runs or is dropped, and tfjs data is
 * immutable, so the deferred result is exactly the eager one. Composite kernels call other kernels through
 * the `wasm` registry, never through the native one, so no deferred output escapes unmaterialised.
 */
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

import type { TensorStore } from './tensor-store.js';

interface Pending {
  readonly backend: KernelBackend;
  readonly held: readonly TensorInfo[];
  readonly compute: () => void;
}

/** The three backend methods patched (the instance's own properties shadow the prototype's). */
interface Patchable {
  readSync(dataId: object, ...rest: unknown[]): unknown;
  read(dataId: object, ...rest: unknown[]): Promise<unknown>;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Pending computations of one native backend registration. */
export class LazyOutputs {
  private readonly pending = new Map<object, Pending>();
  private readonly patched = new WeakSet<object>();

  constructor(private readonly store: TensorStore) {}

  /** Whether deferral is possible with this store (it needs reference counting). */
  get supported(): boolean {
    return this.store.retain !== undefined && this.store.exists !== undefined;
  }

  /** Number of outputs not computed yet (tests). */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Registers `compute` as the producer of `out` (already allocated), keeping `held` alive until it runs.
   * `compute` must take fresh views itself: the wasm heap may grow before it runs.
   */
  defer(backend: KernelBackend, out: TensorInfo, held: readonly TensorInfo[], compute: () => void): void {
    this.patch(backend);
    for (const t of held) this.store.retain!(backend, t.dataId as object);
    this.pending.set(out.dataId as object, { backend, held, compute });
  }

  /** Computes every pending input of a kernel call (called before every kernel of the backend). */
  materializeInputs(inputs: Readonly<Record<string, TensorInfo | undefined>> | undefined): void {
    if (this.pending.size === 0 || !inputs) return;
    for (const key in inputs) {
      const t = inputs[key];
      if (t && this.pending.has(t.dataId as object)) this.materialize(t.dataId as object);
    }
  }

  /** Computes one pending output now (no-op when it is not pending). */
  materialize(dataId: object): void {
    const p = this.pending.get(dataId);
    if (!p) return;
    this.pending.delete(dataId);
    for (const t of p.held) this.materialize(t.dataId as object);
    try {
      p.compute();
    } finally {
      this.release(p);
    }
  }

  private release(p: Pending): void {
    for (const t of p.held) this.store.free(p.backend, t);
  }

  private patch(backend: KernelBackend): void {
    if (this.patched.has(backend)) return;
    this.patched.add(backend);
    const b = backend as unknown as Patchable;
    const readSync = b.readSync.bind(b);
    const read = b.read.bind(b);
    const disposeData = b.disposeData.bind(b);
    b.readSync = (dataId, ...rest) => {
      this.materialize(dataId);
      return readSync(dataId, ...rest);
    };
    b.read = (dataId, ...rest) => {
      this.materialize(dataId);
      return read(dataId, ...rest);
    };
    b.disposeData = (dataId, force) => {
      const freed = disposeData(dataId, force);
      const p = this.pending.get(dataId);
      if (p && !this.store.exists!(backend, dataId)) {
        // Nobody can read it any more: the computation is skipped.
        this.pending.delete(dataId);
        this.release(p);
      }
      return freed;
    };
  }
}
