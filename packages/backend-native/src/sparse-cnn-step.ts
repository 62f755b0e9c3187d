/**
 * One truly sparse SGD training step of a small CNN (issue 9, "sparse convolution where it pays"): conv stages
 * (sparse conv + bias + ReLU, optionally 2×2 max pooling) followed by sparse Dense layers, e.g. LeNet-5-Caffe
 * (docs/algorithm.md#models). Every layer runs on its compact active weights through the addon's sparse
 * kernels — forward, input gradient, weight gradient at the nonzeros fused with the SGD update — on
 * channel-major activations `[C][H][W][padded batch]`, which are the feature-major rows `[C·H·W][padded batch]`
 * of the first Dense layer (so the flatten costs nothing; {@link channelMajorRows} reorders a tfjs Dense
 * kernel's NHWC-flatten rows once).
 *
 * This is the step with fixed masks (plus a forward-only evaluation and, on request, the dense weight gradients
 * of the dense-gradient window); schedules and mask updates live in {@link SparseCnnTrainer}. SGD with PyTorch
 * semantics on weights and biases (`g = grad + wd·w; buf = μ·buf + g; upd = nesterov ? g + μ·buf : buf;
 * w −= lr·upd`), loss = mean softmax cross-entropy.
 */
import { SparseLearningError } from '@sparse-learning/core';
import type { NativeAddon } from './addon.js';
import { type ConvGeometry, type SparseConvAddon, type SparseConvLayer, convGeometry, sparseConvAddonOf } from './sparse-conv-layout.js';
import { type SparseAddon, type SparseDenseLayer, paddedBatch, sparseAddonOf } from './sparse-layout.js';

/** The channel-major 2×2 max pooling of the addon (`native/sparse_conv.cc`). */
export interface SparsePoolAddon {
  sparseCmMaxPool2(x: Float32Array, y: Float32Array, c: number, h: number, w: number, bp: number): void;
  sparseCmMaxPool2Grad(x: Float32Array, dy: Float32Array, dx: Float32Array, c: number, h: number, w: number, bp: number, relu: boolean): void;
  /** `out[r] = Σ x[r][·]` of a row-major `[rows][cols]` x, in double (a conv layer's bias gradient). */
  sparseRowSums(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
}

/** Everything {@link SparseCnnStep} calls (the dense GEMM only for the dense-gradient window). */
export type SparseCnnAddon = SparseAddon & SparseConvAddon & SparsePoolAddon & Pick<NativeAddon, 'gemm'>;

/** The addon's sparse CNN functions, or null when the loaded build lacks any of them. */
export function sparseCnnAddonOf(addon: NativeAddon | null): SparseCnnAddon | null {
  const candidate = addon as unknown as Partial<SparsePoolAddon> | null;
  return sparseAddonOf(addon) && sparseConvAddonOf(addon) && candidate && typeof candidate.sparseRowSums === 'function'
    ? (addon as unknown as SparseCnnAddon)
    : null;
}

/** One conv stage: `pool?(relu(conv(x) + b))`. The layer must have `relu: true` and a bias. */
export interface SparseConvStage {
  readonly layer: SparseConvLayer;
  readonly inH: number;
  readonly inW: number;
  readonly padding: 'valid' | 'same';
  readonly stride?: number;
  /** 2×2 max pooling with stride 2 after the ReLU. */
  readonly pool: boolean;
  /** SGD momentum of the bias (created when absent). */
  biasMom?: Float32Array;
}

/** SGD hyper-parameters (PyTorch semantics). */
export interface SparseCnnSgd {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
}

/**
 * Reorders the rows of a Dense kernel `[c·h·w, out]` that follows a flatten of NHWC activations (row
 * `(y·w + x)·c + ch`, as `tf.layers.flatten`) into channel-major order (row `(ch·h + y)·w + x`), the order of
 * the conv stages' output rows. Works for weights, masks and momentum alike.
 */
export function channelMajorRows<T extends Float32Array | Uint8Array>(kernel: T, c: number, h: number, w: number, out: number): T {
  if (kernel.length !== c * h * w * out) {
    throw new SparseLearningError('E_SHAPE_MISMATCH', `channelMajorRows: ${kernel.length} entries, expected ${c}·${h}·${w}·${out} = ${c * h * w * out}`);
  }
  const result = new (kernel.constructor as { new (n: number): T })(kernel.length);
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < h * w; p++) {
      const from = (p * c + ch) * out;
      result.set(kernel.subarray(from, from + out), (ch * h * w + p) * out);
    }
  }
  return result;
}

/** The inverse of {@link channelMajorRows}: channel-major rows back to the NHWC-flatten order of a tfjs Dense kernel. */
export function nhwcRows<T extends Float32Array | Uint8Array>(kernel: T, c: number, h: number, w: number, out: number): T {
  if (kernel.length !== c * h * w * out) {
    throw new SparseLearningError('E_SHAPE_MISMATCH', `nhwcRows: ${kernel.length} entries, expected ${c}·${h}·${w}·${out} = ${c * h * w * out}`);
  }
  const result = new (kernel.constructor as { new (n: number): T })(kernel.length);
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < h * w; p++) {
      const from = (ch * h * w + p) * out;
      result.set(kernel.subarray(from, from + out), (p * c + ch) * out);
    }
  }
  return result;
}

interface Stage {
  readonly spec: SparseConvStage;
  readonly geom: ConvGeometry;
  readonly biasMom: Float32Array;
  /** Output channels × output pixels (before pooling) and after pooling. */
  readonly convSize: number;
  readonly outH: number;
  readonly outW: number;
}

// PyTorch SGD of one parameter in float32 steps (buf starts at 0, so the first step gives buf = g).
function sgdUpdate(w: Float32Array, buf: Float32Array, grad: Float32Array | Float64Array, s: SparseCnnSgd): void {
  for (let k = 0; k < w.length; k++) {
    const g = Math.fround(grad[k] + Math.fround(w[k] * s.weightDecay));
    buf[k] = Math.fround(Math.fround(buf[k] * s.momentum) + g);
    const upd = s.nesterov ? Math.fround(g + Math.fround(buf[k] * s.momentum)) : buf[k];
    w[k] = Math.fround(w[k] - Math.fround(upd * s.lr));
  }
}

/** See the module comment. */
export class SparseCnnStep {
  private readonly stages: Stage[];
  private readonly inChannels: number;
  // Work buffers by role, reused across steps of the same padded batch: fresh multi-MiB arrays cost page
  // faults and zeroing every step. Every kernel writes its whole output, so stale contents never leak.
  private readonly buffers = new Map<string, Float32Array>();
  private bufferBp = 0;
  private lastBatch = 0;

  private buffer(role: string, length: number): Float32Array {
    let b = this.buffers.get(role);
    if (!b || b.length !== length) {
      b = new Float32Array(length);
      this.buffers.set(role, b);
    }
    return b;
  }

  constructor(
    private readonly addon: SparseCnnAddon,
    stages: readonly SparseConvStage[],
    /** Dense layers after the flatten, input side first; the first one's rows in channel-major order. */
    readonly dense: readonly SparseDenseLayer[],
  ) {
    if (stages.length === 0 || dense.length === 0) {
      throw new SparseLearningError('E_CONFIG_INVALID', 'SparseCnnStep: needs at least one conv stage and one Dense layer');
    }
    let [h, w, c] = [stages[0].inH, stages[0].inW, stages[0].layer.cin];
    this.inChannels = c;
    this.stages = stages.map((spec, i) => {
      const { layer } = spec;
      if (spec.inH !== h || spec.inW !== w || layer.cin !== c) {
        throw new SparseLearningError('E_SHAPE_MISMATCH', `SparseCnnStep: stage ${i} expects ${spec.inH}×${spec.inW}×${layer.cin}, the previous stage gives ${h}×${w}×${c}`);
      }
      if (!layer.relu || !layer.bias) {
        throw new SparseLearningError('E_CONFIG_INVALID', `SparseCnnStep: stage ${i} needs relu: true and a bias (conv + bias + ReLU stages only)`);
      }
      const stride = spec.stride ?? 1;
      const geom = convGeometry(h, w, layer.kh, layer.kw, [stride, stride], spec.padding);
      const outH = spec.pool ? Math.floor(geom.oh / 2) : geom.oh;
      const outW = spec.pool ? Math.floor(geom.ow / 2) : geom.ow;
      [h, w, c] = [outH, outW, layer.cout];
      return { spec, geom, biasMom: spec.biasMom ?? new Float32Array(layer.cout), convSize: layer.cout * geom.oh * geom.ow, outH, outW };
    });
    if (dense[0].in !== c * h * w) {
      throw new SparseLearningError('E_SHAPE_MISMATCH', `SparseCnnStep: the first Dense layer has ${dense[0].in} inputs, the conv stages give ${c}·${h}·${w} = ${c * h * w}`);
    }
    for (let l = 1; l < dense.length; l++) {
      if (dense[l].in !== dense[l - 1].out) throw new SparseLearningError('E_SHAPE_MISMATCH', `SparseCnnStep: Dense layer ${l} has ${dense[l].in} inputs, expected ${dense[l - 1].out}`);
    }
  }

  /** Output channels, height and width after the last conv stage (the flatten the first Dense layer reads). */
  get flattenShape(): { readonly c: number; readonly h: number; readonly w: number } {
    const last = this.stages[this.stages.length - 1];
    return { c: last.spec.layer.cout, h: last.outH, w: last.outW };
  }

  /**
   * One SGD step on a batch (`x` NHWC `[batch, h, w, c]`, integer labels); returns the mean cross-entropy
   * before the update. `denseGrads` (the dense-gradient window, issue 9): per conv stage, then per Dense
   * layer, an array that receives the layer's dense weight gradient of this batch — HWIO for a conv filter
   * (the addon's dense filter-gradient kernel), `[in, out]` for a Dense kernel (one GEMM `Aᵀ·δ`; the first
   * Dense layer's rows in channel-major order) — or null to skip that layer.
   */
  step(x: Float32Array, labels: Int32Array, batch: number, sgd: SparseCnnSgd, denseGrads?: readonly (Float32Array | null)[]): number {
    const a = this.addon;
    this.checkLabels(labels, batch);
    const { bp, ins, relus, acts } = this.forward(x, batch);
    // Mean softmax cross-entropy and its gradient (padding columns stay 0).
    const logits = acts[acts.length - 1];
    const classes = this.dense[this.dense.length - 1].out;
    let g = this.buffer('dlogits', classes * bp);
    g.fill(0);
    let loss = 0;
    for (let j = 0; j < batch; j++) {
      let max = -Infinity;
      for (let o = 0; o < classes; o++) max = Math.max(max, logits[o * bp + j]);
      let sum = 0;
      for (let o = 0; o < classes; o++) sum += Math.exp(logits[o * bp + j] - max);
      loss += Math.log(sum) + max - logits[labels[j] * bp + j];
      for (let o = 0; o < classes; o++) g[o * bp + j] = (Math.exp(logits[o * bp + j] - max) / sum - (o === labels[j] ? 1 : 0)) / batch;
    }
    const nStages = this.stages.length;
    // Dense backward: input gradient (with the previous layer's ReLU derivative) before the layer's update.
    for (let l = this.dense.length - 1; l >= 0; l--) {
      const layer = this.dense[l];
      const dIn = this.buffer(`dact${l}`, layer.in * bp);
      a.sparseBackwardInput(layer, g, l > 0 ? acts[l] : null, dIn, bp);
      const dW = denseGrads?.[nStages + l];
      // dW[in][out] = A[in][bp] · δ[out][bp]ᵀ (δ is zero in the padding columns).
      if (dW) a.gemm(false, true, layer.in, layer.out, bp, 1, acts[l], g, 0, dW);
      if (layer.bias) {
        const gb = new Float64Array(layer.out);
        for (let o = 0; o < layer.out; o++) for (let j = 0; j < batch; j++) gb[o] += g[o * bp + j];
        layer.biasMom ??= new Float32Array(layer.out);
        sgdUpdate(layer.bias, layer.biasMom, gb, sgd);
      }
      a.sparseWeightGradSgd(layer, g, acts[l], bp, sgd.lr, sgd.momentum, sgd.weightDecay, sgd.nesterov);
      g = dIn;
    }
    // Conv stages backward: pooling gradient with the ReLU derivative fused, input gradient, then the update.
    for (let i = nStages - 1; i >= 0; i--) {
      const s = this.stages[i];
      const layer = s.spec.layer;
      let dz: Float32Array;
      if (s.spec.pool) {
        dz = this.buffer(`dz${i}`, s.convSize * bp);
        a.sparseCmMaxPool2Grad(relus[i], g, dz, layer.cout, s.geom.oh, s.geom.ow, bp, true);
      } else {
        dz = g;
        const r = relus[i];
        for (let k = 0; k < dz.length; k++) if (!(r[k] > 0)) dz[k] = 0;
      }
      if (i > 0) {
        const dIn = this.buffer(`din${i}`, ins[i].length);
        a.sparseConvBackwardInput(layer, s.geom.geom, dz, null, dIn, bp);
        g = dIn;
      }
      const dW = denseGrads?.[i];
      if (dW) a.sparseConvDenseFilterGrad(layer, s.geom.geom, dz, ins[i], dW, bp, batch);
      const gb = new Float32Array(layer.cout);
      a.sparseRowSums(dz, layer.cout, s.geom.oh * s.geom.ow * bp, gb);
      sgdUpdate(layer.bias!, s.biasMom, gb, sgd);
      a.sparseConvWeightGradSgd(layer, s.geom.geom, dz, ins[i], bp, sgd.lr, sgd.momentum, sgd.weightDecay, sgd.nesterov);
    }
    return loss / batch;
  }

  /**
   * Forward only (inference): the summed cross-entropy of the batch and its top-1 hits (first maximum wins,
   * as `tf.argMax`).
   */
  evaluate(x: Float32Array, labels: Int32Array, batch: number): { readonly lossSum: number; readonly correct: number } {
    this.checkLabels(labels, batch);
    const { bp, acts } = this.forward(x, batch);
    const logits = acts[acts.length - 1];
    const classes = this.dense[this.dense.length - 1].out;
    let lossSum = 0;
    let correct = 0;
    for (let j = 0; j < batch; j++) {
      let max = -Infinity;
      let arg = 0;
      for (let o = 0; o < classes; o++) {
        const v = logits[o * bp + j];
        if (v > max) (max = v), (arg = o);
      }
      let sum = 0;
      for (let o = 0; o < classes; o++) sum += Math.exp(logits[o * bp + j] - max);
      lossSum += Math.log(sum) + max - logits[labels[j] * bp + j];
      if (arg === labels[j]) correct++;
    }
    return { lossSum, correct };
  }

  private checkLabels(labels: Int32Array, batch: number): void {
    if (labels.length < batch) throw new SparseLearningError('E_SHAPE_MISMATCH', `SparseCnnStep: batch ${batch} needs ${batch} labels, got ${labels.length}`);
  }

  /** The forward pass into the work buffers: per stage its input and ReLU output, then the Dense activations. */
  private forward(x: Float32Array, batch: number): { bp: number; ins: Float32Array[]; relus: Float32Array[]; acts: Float32Array[] } {
    const a = this.addon;
    const bp = paddedBatch(batch);
    const first = this.stages[0];
    const [h0, w0, c0] = [first.spec.inH, first.spec.inW, this.inChannels];
    if (!Number.isInteger(batch) || batch < 1 || x.length < batch * h0 * w0 * c0) {
      throw new SparseLearningError('E_SHAPE_MISMATCH', `SparseCnnStep: batch ${batch} needs x of ${batch * h0 * w0 * c0} values and ${batch} labels`);
    }
    if (bp !== this.bufferBp) {
      this.buffers.clear();
      this.bufferBp = bp;
    }
    // Input to channel-major [c][h][w][bp] (padding columns 0).
    const input = this.buffer('input', c0 * h0 * w0 * bp);
    if (batch !== this.lastBatch) input.fill(0); // a smaller batch of the same padding leaves no stale columns
    this.lastBatch = batch;
    for (let b = 0; b < batch; b++) {
      for (let p = 0; p < h0 * w0; p++) for (let ch = 0; ch < c0; ch++) input[(ch * h0 * w0 + p) * bp + b] = x[(b * h0 * w0 + p) * c0 + ch];
    }
    const ins: Float32Array[] = [];
    const relus: Float32Array[] = [];
    let cur = input;
    for (const [i, s] of this.stages.entries()) {
      ins.push(cur);
      const y = this.buffer(`relu${i}`, s.convSize * bp);
      a.sparseConvForward(s.spec.layer, s.geom.geom, cur, y, bp);
      relus.push(y);
      if (s.spec.pool) {
        const pooled = this.buffer(`pool${i}`, s.spec.layer.cout * s.outH * s.outW * bp);
        a.sparseCmMaxPool2(y, pooled, s.spec.layer.cout, s.geom.oh, s.geom.ow, bp);
        cur = pooled;
      } else {
        cur = y;
      }
    }
    const acts: Float32Array[] = [cur];
    for (const [l, layer] of this.dense.entries()) {
      const y = this.buffer(`act${l}`, layer.out * bp);
      a.sparseForward(layer, acts[acts.length - 1], y, bp);
      acts.push(y);
    }
    return { bp, ins, relus, acts };
  }
}
