/**
 * A sparse convolution as a TensorFlow.js op on the `native` backend (issue 9: sparse execution of CNNs with
 * batch norm, residual blocks and dropout, e.g. WRN-16-8; docs/algorithm.md#models). Everything around the
 * convolutions — batch norm, ReLU, seeded dropout, residual adds, pooling, the classifier — stays the model's
 * own tfjs graph on the native backend, so it computes exactly what the masked path computes; each masked conv
 * becomes one kernel over its compact active weights ({@link SparseConvLayer}):
 *
 * - forward (`SlSparseConv2D`): NHWC input → channel-major `[C][H][W][bp]` (the addon's 16×16 register
 *   transpose, `native/cm_transpose.cc`), the sparse forward, channel-major → NHWC output. The channel-major
 *   input is kept for the weight gradient; two convs reading the same tensor (a block's `conv1` and its 1×1
 *   shortcut) share one conversion.
 * - backward (its registered gradient, `SlSparseConv2DGrad`): NHWC output gradient → channel-major, the input
 *   gradient at the nonzeros (when the input needs one), the dense HWIO filter gradient when the unit asks for it
 *   (the dense-gradient window of momentum growth, docs/algorithm.md#the-mask-update), then the weight gradient
 *   at the nonzeros fused with SGD (Nesterov, coupled weight decay, per-nonzero momentum: PyTorch semantics as
 *   core's `SgdOptimizer`). The update happens inside the backward pass, after the input gradient: nothing later
 *   in the pass reads this layer's weights, so the result equals updating after the pass.
 *
 * Every op also takes an `anchor`, a trainable scalar variable the caller puts into `tf.variableGrads`: tfjs
 * only runs gradients of ops on a path from a listed variable, and the first conv (on the input images)
 * would otherwise never get its update.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import { SparseLearningError } from '@sparse-learning/core';
import type { NativeAddon } from './addon.js';
import { nativeTensorAccess } from './native-backend.js';
import type { SparseCnnSgd } from './sparse-cnn-step.js';
import { type ConvGeometry, type SparseConvAddon, type SparseConvLayer, sparseConvAddonOf } from './sparse-conv-layout.js';
import { paddedBatch } from './sparse-layout.js';

/** Kernel name of the sparse conv forward op. */
export const SPARSE_CONV_KERNEL_NAME = 'SlSparseConv2D';
/** Kernel name of its backward op (input gradient and the fused weight update). */
export const SPARSE_CONV_GRAD_KERNEL_NAME = 'SlSparseConv2DGrad';

/** The addon functions the op runs: the sparse conv kernels and the layout conversions. */
export interface SparseConvOpAddon extends SparseConvAddon {
  /** NHWC `x [n][P][C]` → channel-major `y [C][P][bp]` (padding columns written as 0). */
  sparseNhwcToCm(x: Float32Array, y: Float32Array, n: number, pixels: number, channels: number, bp: number): void;
  /** Channel-major `y [C][P][bp]` → NHWC `x [n][P][C]`. */
  sparseCmToNhwc(y: Float32Array, x: Float32Array, n: number, pixels: number, channels: number, bp: number): void;
}

/** The addon's sparse conv op functions, or null when the loaded build lacks any of them. */
export function sparseConvOpAddonOf(addon: NativeAddon | null): SparseConvOpAddon | null {
  const candidate = addon as unknown as Partial<SparseConvOpAddon> | null;
  return sparseConvAddonOf(addon) && candidate && typeof candidate.sparseNhwcToCm === 'function' && typeof candidate.sparseCmToNhwc === 'function'
    ? (candidate as SparseConvOpAddon)
    : null;
}

/** One conv of a graph that runs on its compact active weights. */
export interface SparseConvUnit {
  /** The compact filter (no bias, linear); a mask update replaces it. */
  layer: SparseConvLayer;
  /** Geometry over the unpadded input, explicit top/left padding included (a folded `ZeroPadding2D`). */
  readonly geometry: ConvGeometry;
  /** Whether the op must produce an input gradient (false for a conv on the network's input). */
  readonly needsInputGradient: boolean;
  /** SGD of the next backward pass. */
  sgd: SparseCnnSgd;
  /** Receives the dense HWIO filter gradient of the next backward pass (the dense-gradient window), or null. */
  denseGradient: Float32Array | null;
}

interface Entry {
  readonly unit: SparseConvUnit;
  readonly ops: SparseConvOps;
  /** The channel-major input of the last forward pass (for the weight gradient). */
  xcm: Float32Array | null;
  /** The padded batch of the last forward pass. */
  bp: number;
}

const units = new Map<number, Entry>();
let nextId = 1;
const registeredBackends = new Set<string>();
let gradientRegistered = false;

function entryOf(attrs: unknown): Entry {
  const id = (attrs as { unit?: number }).unit ?? -1;
  const entry = units.get(id);
  if (!entry) throw new SparseLearningError('E_ENGINE_STATE', `sparse conv op: unit ${id} is not registered (disposed trainer?)`);
  return entry;
}

/** Registers the two kernels on native backend `name` and the gradient (once per process). */
function registerKernels(backendName: string): void {
  if (!registeredBackends.has(backendName)) {
    const access = nativeTensorAccess(backendName);
    if (!access) throw new SparseLearningError('E_BACKEND_UNAVAILABLE', `sparse conv op: '${backendName}' is not a registered native backend`, { backend: backendName });
    const { store } = access;
    tf.registerKernel({
      kernelName: SPARSE_CONV_KERNEL_NAME,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const x = (inputs as { x: TensorInfo }).x;
        access.materializeInputs({ x });
        return entryOf(attrs).ops.forward(entryOf(attrs), x, backend as KernelBackend, store);
      },
    });
    tf.registerKernel({
      kernelName: SPARSE_CONV_GRAD_KERNEL_NAME,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const dy = (inputs as { dy: TensorInfo }).dy;
        access.materializeInputs({ dy });
        return entryOf(attrs).ops.backward(entryOf(attrs), dy, backend as KernelBackend, store);
      },
    });
    registeredBackends.add(backendName);
  }
  if (!gradientRegistered) {
    tf.registerGradient({
      kernelName: SPARSE_CONV_KERNEL_NAME,
      inputsToSave: [],
      // Runs the backward kernel at once (not inside the thunks): tfjs calls only the thunks of inputs on a
      // path from a listed variable, and the weight update must happen whichever are called.
      gradFunc: (dy, _saved, attrs) => {
        const dx = tf.engine().runKernel(SPARSE_CONV_GRAD_KERNEL_NAME, { dy: dy as tf.Tensor }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
        return { x: () => dx, anchor: () => tf.zeros([]) };
      },
    });
    gradientRegistered = true;
  }
}

/**
 * The sparse conv ops of one trainer: its units, their work buffers and the per-pass cache of converted
 * inputs. Call {@link SparseConvOps.beginPass} before every forward pass and {@link SparseConvOps.dispose} at
 * the end.
 */
export class SparseConvOps {
  private readonly ids = new Map<SparseConvUnit, number>();
  // Work buffers by role, grown to the largest request and reused (fresh multi-MiB arrays cost page faults).
  private readonly scratch = new Map<string, Float32Array>();
  /** Channel-major inputs converted in this pass, by the input's data id. */
  private converted = new Map<object, Float32Array>();
  /**
   * Milliseconds spent in the layout conversions and in the sparse kernels since construction (the bench's
   * profile: what limits the step's ratio). `performance.now()` around each addon call; negligible cost.
   */
  readonly timings = { transpose: 0, forward: 0, inputGradient: 0, weightGradient: 0, denseGradient: 0 };

  constructor(
    private readonly addon: SparseConvOpAddon,
    /** The native backend the graph runs on (`tf.getBackend()` when training). */
    readonly backendName: string,
  ) {
    registerKernels(backendName);
  }

  /** Adds a unit; returns it for chaining. */
  add(unit: SparseConvUnit): SparseConvUnit {
    const id = nextId++;
    units.set(id, { unit, ops: this, xcm: null, bp: 0 });
    this.ids.set(unit, id);
    return unit;
  }

  /** Forgets the inputs converted in the previous pass (their tensors may be gone, their ids reused). */
  beginPass(): void {
    this.converted = new Map();
  }

  /** `conv(x)` of `unit` on NHWC `x` (`[n, h, w, cin]`), differentiable through its registered gradient. */
  apply(unit: SparseConvUnit, x: tf.Tensor, anchor: tf.Variable): tf.Tensor {
    const id = this.ids.get(unit);
    if (id === undefined) throw new SparseLearningError('E_ENGINE_STATE', 'sparse conv op: unit not added to these ops');
    if (tf.getBackend() !== this.backendName) {
      throw new SparseLearningError('E_BACKEND_UNAVAILABLE', `sparse conv op: runs on '${this.backendName}', the active backend is '${tf.getBackend()}'`, {
        backend: tf.getBackend(),
        valid: [this.backendName],
      });
    }
    return tf.engine().runKernel(SPARSE_CONV_KERNEL_NAME, { x, anchor }, { unit: id }) as tf.Tensor;
  }

  /** Bytes of the work buffers and kept channel-major inputs. */
  bytes(): number {
    let total = 0;
    for (const b of this.scratch.values()) total += b.byteLength;
    for (const id of this.ids.values()) total += units.get(id)?.xcm?.byteLength ?? 0;
    return total;
  }

  /** Unregisters the units and drops the buffers. */
  dispose(): void {
    for (const id of this.ids.values()) units.delete(id);
    this.ids.clear();
    this.scratch.clear();
    this.converted.clear();
  }

  private buffer(role: string, length: number): Float32Array {
    let b = this.scratch.get(role);
    if (!b || b.length < length) {
      b = new Float32Array(length);
      this.scratch.set(role, b);
    }
    return b.subarray(0, length);
  }

  /** @internal The forward kernel. */
  forward(entry: Entry, x: TensorInfo, backend: KernelBackend, store: NativeStore): TensorInfo {
    const { unit } = entry;
    const { layer, geometry: g } = unit;
    const [n, h, w, c] = x.shape;
    const [gh, gw] = [g.geom[0], g.geom[1]];
    if (x.shape.length !== 4 || h !== gh || w !== gw || c !== layer.cin) {
      throw new SparseLearningError('E_SHAPE_MISMATCH', `sparse conv op: input [${x.shape.join(', ')}], expected [n, ${gh}, ${gw}, ${layer.cin}]`);
    }
    const bp = paddedBatch(n);
    const out = store.alloc(backend, [n, g.oh, g.ow, layer.cout]); // allocate before any view: the heap may move
    let xcm = this.converted.get(x.dataId as object);
    if (!xcm || xcm.length !== c * h * w * bp) {
      xcm = entry.xcm && entry.xcm.length === c * h * w * bp ? entry.xcm : new Float32Array(c * h * w * bp);
      const t0 = performance.now();
      this.addon.sparseNhwcToCm(store.view(backend, x), xcm, n, h * w, c, bp);
      this.timings.transpose += performance.now() - t0;
      this.converted.set(x.dataId as object, xcm);
    }
    entry.xcm = xcm;
    entry.bp = bp;
    const ycm = this.buffer('y', layer.cout * g.oh * g.ow * bp);
    const t1 = performance.now();
    this.addon.sparseConvForward(layer, g.geom, xcm, ycm, bp);
    const t2 = performance.now();
    this.addon.sparseCmToNhwc(ycm, store.view(backend, out), n, g.oh * g.ow, layer.cout, bp);
    this.timings.forward += t2 - t1;
    this.timings.transpose += performance.now() - t2;
    return out;
  }

  /** @internal The backward kernel: input gradient (or a placeholder), window gradient, fused SGD. */
  backward(entry: Entry, dy: TensorInfo, backend: KernelBackend, store: NativeStore): TensorInfo {
    const { unit, xcm, bp } = entry;
    const { layer, geometry: g, sgd } = unit;
    const [n] = dy.shape;
    if (!xcm || paddedBatch(n) !== bp) throw new SparseLearningError('E_ENGINE_STATE', 'sparse conv op: backward without its forward pass');
    const [h, w] = [g.geom[0], g.geom[1]];
    const dx = store.alloc(backend, unit.needsInputGradient ? [n, h, w, layer.cin] : [1]);
    const dycm = this.buffer('dy', layer.cout * g.oh * g.ow * bp);
    const t = this.timings;
    let t0 = performance.now();
    this.addon.sparseNhwcToCm(store.view(backend, dy), dycm, n, g.oh * g.ow, layer.cout, bp);
    let t1 = performance.now();
    t.transpose += t1 - t0;
    if (unit.needsInputGradient) {
      const dxcm = this.buffer('dx', layer.cin * h * w * bp);
      this.addon.sparseConvBackwardInput(layer, g.geom, dycm, null, dxcm, bp);
      t0 = performance.now();
      t.inputGradient += t0 - t1;
      this.addon.sparseCmToNhwc(dxcm, store.view(backend, dx), n, h * w, layer.cin, bp);
      t1 = performance.now();
      t.transpose += t1 - t0;
    } else {
      store.view(backend, dx).fill(0);
    }
    if (unit.denseGradient) {
      this.addon.sparseConvDenseFilterGrad(layer, g.geom, dycm, xcm, unit.denseGradient, bp, n);
      t0 = performance.now();
      t.denseGradient += t0 - t1;
      t1 = t0;
    }
    this.addon.sparseConvWeightGradSgd(layer, g.geom, dycm, xcm, bp, sgd.lr, sgd.momentum, sgd.weightDecay, sgd.nesterov);
    t.weightGradient += performance.now() - t1;
    return dx;
  }
}

type NativeStore = NonNullable<ReturnType<typeof nativeTensorAccess>>['store'];
