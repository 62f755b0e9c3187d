/**
 * The `native` TensorFlow.js backend (issue 6, item 2): a backend derived from `wasm` (default) or `cpu`
 * whose GEMM, convolution and max-pool kernels run in the native addon; every other kernel is the base
 * backend's own. See ARCHITECTURE.md for why wasm is the default base.
 *
 * Derivation: the base backend's factory is reused (a `wasm`-derived backend gets its *own* wasm module
 * instance, so tensor ids never collide with the stock `wasm` backend), and all base kernels are registered
 * again under the new name, keeping their `setupFunc` (wasm kernels bind their module functions there; tfjs
 * re-runs them on every `setBackend`, so two wasm-module backends coexist).
 */
import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { SparseLearningError } from '@sparse-learning/core';

import { nativeAddonStatus } from './addon.js';
import type { NativeAddon } from './addon.js';
import { LazyOutputs } from './lazy-outputs.js';
import { NATIVE_KERNELS, makeNativeKernel, nativeKernelAvailable } from './native-kernels.js';
import type { TensorStore } from './tensor-store.js';

/** The base a native backend is derived from. */
export type NativeBase = 'wasm' | 'cpu';

/** Default name of the native backend. */
export const NATIVE_BACKEND = 'native';

interface WasmLike {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(id: unknown): { memoryOffset: number; refCount: number }; has(id: unknown): boolean };
  incRef(id: unknown): void;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(id: unknown): boolean;
}

interface CpuLike {
  data: { get(id: unknown): { values: ArrayLike<number> }; has(id: unknown): boolean };
  incRef(id: unknown): void;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
  disposeData(id: unknown): boolean;
}

/** Views into the wasm heap. `HEAPF32` is re-read on every call: `_malloc` may grow (replace) the memory. */
export const wasmStore: TensorStore = {
  alloc: (backend, shape) => (backend as unknown as WasmLike).makeOutput(shape, 'float32'),
  view: (backend, t) => {
    const b = backend as unknown as WasmLike;
    const { memoryOffset } = b.dataIdMap.get(t.dataId);
    return new Float32Array(b.wasm.HEAPF32.buffer, memoryOffset, util.sizeFromShape(t.shape));
  },
  free: (backend, t) => {
    (backend as unknown as WasmLike).disposeData(t.dataId);
  },
  retain: (backend, dataId) => (backend as unknown as WasmLike).incRef(dataId),
  exists: (backend, dataId) => (backend as unknown as WasmLike).dataIdMap.has(dataId),
  soleOwner: (backend, dataId) => (backend as unknown as WasmLike).dataIdMap.get(dataId)?.refCount === 1,
};

/** The cpu backend's own Float32Arrays. */
export const cpuStore: TensorStore = {
  alloc: (backend, shape) =>
    (backend as unknown as CpuLike).makeTensorInfo(shape, 'float32', new Float32Array(util.sizeFromShape(shape))),
  view: (backend, t) => (backend as unknown as CpuLike).data.get(t.dataId).values as Float32Array,
  free: (backend, t) => {
    (backend as unknown as CpuLike).disposeData(t.dataId);
  },
  retain: (backend, dataId) => (backend as unknown as CpuLike).incRef(dataId),
  exists: (backend, dataId) => (backend as unknown as CpuLike).data.has(dataId),
};

/** Options of {@link registerNativeBackend}. */
export interface NativeBackendOptions {
  /** Backend name; default {@link NATIVE_BACKEND}. */
  readonly name?: string;
  /** Base backend; default `'wasm'`. */
  readonly base?: NativeBase;
  /** Use this addon instead of the default build (tests compare builds). */
  readonly addon?: NativeAddon;
  /** tfjs backend priority; default 0 (never picked implicitly by `tf.ready()`). */
  readonly priority?: number;
  /**
   * Defer the outputs of `BatchMatMul` and `Conv2DBackpropInput` until read, so gradients tfjs computes but
   * never reads are skipped (lazy-outputs.ts). Default true; `SPARSE_LEARNING_NATIVE_LAZY=0` turns it off.
   */
  readonly lazy?: boolean;
}

const registered = new Map<string, NativeBase>();
const access = new Map<string, NativeTensorAccess>();

/**
 * How a kernel registered from outside this module (the sparse conv ops of sparse-conv-op.ts) reads and writes
 * a native backend's tensors: its store, and the pending (deferred) outputs it must compute before a read.
 */
export interface NativeTensorAccess {
  readonly store: TensorStore;
  materializeInputs(inputs: Readonly<Record<string, TensorInfo | undefined>>): void;
}

/** The {@link NativeTensorAccess} of a registered native backend, or undefined. */
export function nativeTensorAccess(name: string): NativeTensorAccess | undefined {
  return access.get(name);
}

/** Names of the native backends registered in this process, with their base. */
export function registeredNativeBackends(): ReadonlyMap<string, NativeBase> {
  return registered;
}

/**
 * Registers a native backend. Returns `false` (and registers nothing) when the addon is unavailable;
 * `nativeAddonStatus().reason` says why. Idempotent per name.
 * @throws SparseLearningError `E_BACKEND_UNAVAILABLE` when the base backend is not registered.
 */
export function registerNativeBackend(options: NativeBackendOptions = {}): boolean {
  const name = options.name ?? NATIVE_BACKEND;
  const base = options.base ?? 'wasm';
  if (registered.has(name)) return true;
  const addon = options.addon ?? nativeAddonStatus().addon;
  if (!addon) return false;
  const factory = tf.findBackendFactory(base);
  if (!factory) {
    throw new SparseLearningError('E_BACKEND_UNAVAILABLE', `cannot derive '${name}': base backend '${base}' is not registered`, {
      backend: name,
      base,
    });
  }
  const store = base === 'wasm' ? wasmStore : cpuStore;
  const baseKernels = tf.getKernelsForBackend(base);
  const fallbacks = new Map<string, KernelFunc>();
  for (const kernel of baseKernels) if (NATIVE_KERNELS.has(kernel.kernelName)) fallbacks.set(kernel.kernelName, kernel.kernelFunc);
  const lazyEnv = process.env.SPARSE_LEARNING_NATIVE_LAZY;
  const lazyOn = options.lazy ?? !(lazyEnv !== undefined && ['0', 'off', 'false', 'no'].includes(lazyEnv.toLowerCase()));
  const lazy = lazyOn ? new LazyOutputs(store) : undefined;
  tf.registerBackend(name, factory as () => KernelBackend | Promise<KernelBackend>, options.priority ?? 0);
  for (const kernel of baseKernels) {
    const config: KernelConfig = { ...kernel, backendName: name };
    if (NATIVE_KERNELS.has(kernel.kernelName)) {
      // Keep the base setupFunc: the fallback path calls the base kernelFunc, which needs its bindings.
      config.kernelFunc = makeNativeKernel(kernel.kernelName, addon, store, fallbacks, lazy);
    } else if (lazy) {
      // Every base kernel computes deferred inputs first (they read the base backend's memory directly).
      const base = kernel.kernelFunc;
      config.kernelFunc = ((args: Parameters<KernelFunc>[0]) => {
        lazy.materializeInputs(args.inputs as Record<string, TensorInfo | undefined>);
        return base(args);
      }) as KernelFunc;
    }
    tf.registerKernel(config);
  }
  for (const kernelName of NATIVE_KERNELS.keys()) {
    if (!fallbacks.has(kernelName) && nativeKernelAvailable(kernelName, addon)) {
      // The base lacks this kernel (wasm has no Conv2DBackpropFilter): native is the only implementation.
      tf.registerKernel({ kernelName, backendName: name, kernelFunc: makeNativeKernel(kernelName, addon, store, fallbacks, lazy) });
    }
  }
  registered.set(name, base);
  access.set(name, { store, materializeInputs: (inputs) => lazy?.materializeInputs(inputs) });
  return true;
}
