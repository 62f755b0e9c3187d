/**
 * Truly sparse training of a small CNN (issue 9): conv stages (sparse conv + bias + ReLU, optionally 2×2 max
 * pooling) followed by Dense layers — LeNet-5-Caffe (docs/algorithm.md#models) and any model of that form —
 * with the same schedule of steps and mask updates as core's `SparseTrainer` ({@link SparseTrainerCore}).
 * Every step runs {@link SparseCnnStep} on the compact layers, so its cost follows the active weights.
 *
 * The plugin API is unchanged: at each mask update the strategies get the same dense `LayerView` inputs as
 * on the masked path (weight, mask, and only what `requires` asks for: momentum, gradient), materialised from
 * the compact layers only then and in the model's own layouts (conv filters HWIO; Dense kernels `[in, out]`,
 * the first one's rows in the NHWC-flatten order of tfjs-layers' `Flatten`). Pruning then removes entries and
 * growth inserts them in the compact conv layout ({@link editConvLayer}; per-entry momentum follows its weight);
 * Dense layers are re-listed from the new mask, as in {@link SparseMlpTrainer}.
 *
 * Growth that needs dense information gets it from the dense-gradient window: during the last
 * `denseGradWindow` steps before each update the dense weight gradient of every masked layer is computed — the
 * addon's dense filter-gradient kernel for conv layers, one GEMM `Aᵀ·δ` for Dense layers — and a dense momentum
 * `M ← μM + ∇W` is kept, with the active positions overwritten by their exact (weight-decayed) momentum. A
 * window covering the run reproduces the masked path (tests: same masks, weights within float32 tolerance).
 *
 * Differences from the masked path, by design: float summation order (not bitwise equal); a non-finite loss is
 * detected after the update of its step, not before.
 */
import { type MaskUpdateEvent, type MaskUpdateLayerInput, SparseLearningError } from '@sparse-learning/core';
import { editConvLayer } from './sparse-conv-edit.js';
import { accumulateConvMomentum, convNnzOf, scatterConvDense, sparseConvLayerBytes } from './sparse-conv-layout.js';
import { type SparseCnnAddon, type SparseConvStage, SparseCnnStep, channelMajorRows, nhwcRows } from './sparse-cnn-step.js';
import { maskOf, nnzOf, scatterDense, sparseLayerBytes, sparseLayerFromDense } from './sparse-layout.js';
import type { SparseMlpLayerSpec } from './sparse-mlp-trainer.js';
import { type ArrayBatch, type SparseSgdOptions, type SparseStepResult, type SparseTrainerCoreOptions, SparseTrainerCore } from './sparse-trainer-core.js';

/**
 * One conv stage of the model: `pool?(relu(conv(x) + b))`, in order from the input — a {@link SparseConvStage}
 * with the names of its variables and whether the mask updater edits it.
 */
export interface SparseCnnConvSpec extends Omit<SparseConvStage, 'biasMom'> {
  /** Name of the filter variable (the masked layer's name in `Masking`). */
  readonly weightName: string;
  readonly biasName: string;
  /** Whether the filter is masked (updated by the mask updater); unmasked filters stay as they are. */
  readonly masked: boolean;
  /** SGD momentum of the bias (zeros when absent). */
  readonly biasMom?: Float32Array;
}

/** Everything a {@link SparseCnnTrainer} composes (the schedules, trigger and streams: {@link SparseTrainerCoreOptions}). */
export interface SparseCnnTrainerOptions extends SparseTrainerCoreOptions {
  readonly addon: SparseCnnAddon;
  readonly convs: readonly SparseCnnConvSpec[];
  /** Dense layers after the flatten; the first one's rows in channel-major order (see {@link channelMajorRows}). */
  readonly dense: readonly SparseMlpLayerSpec[];
  /** Largest batch a step sees; evaluation runs in chunks of it (the work buffers keep their size). */
  readonly maxBatch: number;
  readonly sgd: SparseSgdOptions;
  /**
   * Row order of the first Dense kernel in the model and in the dense views the strategies see: `'nhwc'`
   * (default; tfjs-layers' `Flatten` of channels-last activations) or `'channel-major'`.
   */
  readonly flatten?: 'nhwc' | 'channel-major';
  /** Dense momentum per masked layer, in the model's layout, to start from (e.g. a resumed masked run's buffers). */
  readonly denseMomentum?: Readonly<Record<string, Float32Array>>;
}

/** One layer in the model's layout, as the session stores it (weights, mask, momentum, bias). */
export interface SparseCnnDenseView {
  readonly weightName: string;
  readonly biasName: string | null;
  readonly shape: readonly number[];
  readonly weight: Float32Array;
  readonly mask: Uint8Array;
  /** The momentum the masked path would hold: the window's dense momentum, else the nonzeros' (zeros elsewhere). */
  readonly momentum: Float32Array;
  readonly bias: Float32Array | null;
  readonly biasMomentum: Float32Array | null;
}

type Slot = { kind: 'conv'; index: number } | { kind: 'dense'; index: number };

/** See the module comment. */
export class SparseCnnTrainer extends SparseTrainerCore {
  readonly convs: SparseCnnConvSpec[];
  readonly dense: SparseMlpLayerSpec[];
  private readonly addon: SparseCnnAddon;
  private readonly maxBatch: number;
  private readonly sgd: SparseSgdOptions;
  private readonly flattenNhwc: boolean;
  private readonly convBiasMom: Float32Array[];
  private net: SparseCnnStep;
  /** Dense momentum / last dense gradient per layer index (convs first, then Dense), in the kernels' layout. */
  private denseMomentum = new Map<number, Float32Array>();
  private denseGradient = new Map<number, Float32Array>();
  /** Steps that computed dense gradients (for reports). */
  denseSteps = 0;

  constructor(options: SparseCnnTrainerOptions) {
    super(options);
    this.addon = options.addon;
    this.convs = [...options.convs];
    this.dense = [...options.dense];
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new SparseLearningError('E_OUT_OF_RANGE', `maxBatch = ${options.maxBatch}; expected an integer >= 1`);
    this.maxBatch = options.maxBatch;
    this.sgd = options.sgd;
    const flatten = options.flatten ?? 'nhwc';
    if (flatten !== 'nhwc' && flatten !== 'channel-major') {
      throw new SparseLearningError('E_CONFIG_INVALID', `flatten = ${String(flatten)}; expected 'nhwc' or 'channel-major'`);
    }
    this.flattenNhwc = flatten === 'nhwc';
    this.convBiasMom = this.convs.map((c) => c.biasMom ?? new Float32Array(c.layer.cout));
    this.net = this.buildNet();
    if (options.denseMomentum && this.needsDense) {
      this.slots().forEach((slot, i) => {
        const spec = this.specOf(slot);
        const m = options.denseMomentum?.[spec.weightName];
        if (spec.masked && m) this.denseMomentum.set(i, this.toKernelLayout(slot, Float32Array.from(m)));
      });
    }
  }

  /** One native training step on `batch` (`x` NHWC), then the mask update if due. */
  step(batch: ArrayBatch): SparseStepResult {
    const n = batch.labels.length;
    const learningRate = this.nextLearningRate();
    const { momentum, weightDecay, nesterov } = this.sgd;
    const window = this.needsDense && this.inWindow(this.stepCount + 1);
    const grads = window ? this.windowGradients() : undefined;
    const loss = this.net.step(batch.x, batch.labels, n, { lr: learningRate, momentum, weightDecay, nesterov }, grads);
    this.checkLoss(loss);
    if (grads) this.accumulateDense(grads, momentum);
    return this.finishStep(loss, learningRate);
  }

  /** Mean NLL and top-1 accuracy (forward only, in native code, in chunks of `maxBatch`). */
  evaluate(batches: Iterable<ArrayBatch>): { loss: number; accuracy: number; count: number } {
    return this.evaluateInChunks(batches, this.maxBatch, (x, labels, m) => this.net.evaluate(x, labels, m));
  }

  /**
   * One prune–redistribute–regrow cycle now, through the unchanged `MaskUpdater` (plugins see the same
   * layer views as on the masked path).
   */
  updateMasks(): MaskUpdateEvent {
    const updater = this.maskUpdater;
    if (!updater) throw new SparseLearningError('E_ENGINE_STATE', 'mask update requested without a mask updater');
    const wantsMomentum = updater.requires.has('momentum');
    const wantsGradient = updater.requires.has('gradient');
    const masked = this.slots()
      .map((slot, i) => ({ slot, i, spec: this.specOf(slot) }))
      .filter(({ spec }) => spec.masked);
    const inputs: MaskUpdateLayerInput[] = masked.map(({ slot, i, spec }) => {
      const view = this.kernelView(slot);
      const gradient = wantsGradient ? this.denseGradient.get(i) : undefined;
      const momentum = wantsMomentum ? (this.denseMomentum.get(i) ?? view.momentum) : null;
      return {
        name: spec.weightName,
        shape: view.shape,
        weight: this.toModelLayout(slot, view.weight),
        mask: this.toModelLayout(slot, view.mask),
        momentum: momentum ? this.toModelLayout(slot, momentum) : null,
        gradient: gradient ? this.toModelLayout(slot, gradient) : null,
      };
    });
    const result = this.runMaskUpdater(inputs);
    const byName = new Map(result.layers.map((r) => [r.name, r]));
    for (const { slot, i, spec } of masked) {
      const r = byName.get(spec.weightName);
      if (!r) throw new SparseLearningError('E_ENGINE_STATE', `mask update returned no result for layer '${spec.weightName}'`);
      const dense = this.denseMomentum.get(i) ?? null;
      if (slot.kind === 'conv') {
        const layer = editConvLayer(this.convs[slot.index].layer, r.prunedIndices, r.grownIndices, r.weight, dense);
        this.convs[slot.index] = { ...this.convs[slot.index], layer };
      } else {
        const old = this.dense[slot.index].layer;
        const momentum = dense ?? scatterDense(old, old.mom);
        const layer = sparseLayerFromDense(this.toKernelLayout(slot, r.weight), this.toKernelLayout(slot, r.mask), old.in, old.out, {
          bias: old.bias,
          biasMom: old.biasMom,
          relu: old.relu,
          momentum,
        });
        this.dense[slot.index] = { ...this.dense[slot.index], layer };
      }
      const active = this.activeOf(slot);
      if (active !== r.activeAfter) {
        throw new SparseLearningError('E_ENGINE_STATE', `layer '${spec.weightName}' holds ${active} active weights after the update, the updater counted ${r.activeAfter}`);
      }
    }
    // Keep the dense buffers only when the next step opens the next window anyway (window >= update interval):
    // then the dense momentum is continuous and equals the masked path's.
    if (!this.inWindow(this.stepCount + 1)) {
      this.denseMomentum.clear();
      this.denseGradient.clear();
    }
    this.net = this.buildNet();
    this.events.emit(result.event);
    return result.event;
  }

  /** Layer names in order (conv filters, then Dense kernels). */
  get weightNames(): string[] {
    return this.slots().map((slot) => this.specOf(slot).weightName);
  }

  /** Layer `index` (conv stages first, then Dense layers) in the model's layout, for checkpoints and metrics. */
  denseView(index: number): SparseCnnDenseView {
    const slot = this.slots()[index];
    if (!slot) throw new SparseLearningError('E_OUT_OF_RANGE', `layer index ${index}; expected 0..${this.slots().length - 1}`);
    const spec = this.specOf(slot);
    const view = this.kernelView(slot);
    const bias = slot.kind === 'conv' ? this.convs[slot.index].layer.bias : this.dense[slot.index].layer.bias;
    const biasMomentum = slot.kind === 'conv' ? this.convBiasMom[slot.index] : this.dense[slot.index].layer.biasMom;
    return {
      weightName: spec.weightName,
      biasName: spec.biasName,
      shape: view.shape,
      weight: this.toModelLayout(slot, view.weight),
      mask: this.toModelLayout(slot, view.mask),
      momentum: this.toModelLayout(slot, this.denseMomentum.get(index)?.slice() ?? view.momentum),
      bias: bias ? bias.slice() : null,
      biasMomentum: bias ? (biasMomentum?.slice() ?? new Float32Array(bias.length)) : null,
    };
  }

  /** Active weights per layer (conv stages first, then Dense layers). */
  activeCounts(): number[] {
    return this.slots().map((slot) => this.activeOf(slot));
  }

  /** Bytes of the compact layers plus the dense window buffers currently held. */
  bytes(): number {
    let total = this.convs.reduce((acc, c) => acc + sparseConvLayerBytes(c.layer), 0) + this.dense.reduce((acc, d) => acc + sparseLayerBytes(d.layer), 0);
    total += this.convBiasMom.reduce((acc, b) => acc + b.byteLength, 0);
    for (const m of this.denseMomentum.values()) total += m.byteLength;
    for (const g of this.denseGradient.values()) total += g.byteLength;
    return total;
  }

  private slots(): Slot[] {
    return [...this.convs.map((_, index) => ({ kind: 'conv', index }) as Slot), ...this.dense.map((_, index) => ({ kind: 'dense', index }) as Slot)];
  }

  private specOf(slot: Slot): { readonly weightName: string; readonly biasName: string | null; readonly masked: boolean } {
    return slot.kind === 'conv' ? this.convs[slot.index] : this.dense[slot.index];
  }

  /** Entries of the layer's dense weight (filter or kernel). */
  private denseSize(slot: Slot): number {
    if (slot.kind === 'dense') return this.dense[slot.index].layer.in * this.dense[slot.index].layer.out;
    const l = this.convs[slot.index].layer;
    return l.kh * l.kw * l.cin * l.cout;
  }

  private activeOf(slot: Slot): number {
    return slot.kind === 'conv' ? convNnzOf(this.convs[slot.index].layer) : nnzOf(this.dense[slot.index].layer);
  }

  /** Weight, mask and per-entry momentum of a layer as dense arrays in the kernels' layout. */
  private kernelView(slot: Slot): { shape: number[]; weight: Float32Array; mask: Uint8Array; momentum: Float32Array } {
    if (slot.kind === 'conv') {
      const l = this.convs[slot.index].layer;
      const ones = new Float32Array(l.vals.length).fill(1);
      return {
        shape: [l.kh, l.kw, l.cin, l.cout],
        weight: scatterConvDense(l, l.vals),
        mask: Uint8Array.from(scatterConvDense(l, ones)),
        momentum: scatterConvDense(l, l.mom),
      };
    }
    const l = this.dense[slot.index].layer;
    return { shape: [l.in, l.out], weight: scatterDense(l, l.vals), mask: maskOf(l), momentum: scatterDense(l, l.mom) };
  }

  /** Whether the layer's rows differ between the model and the kernels (the first Dense layer after an NHWC flatten). */
  private reordered(slot: Slot): boolean {
    return slot.kind === 'dense' && slot.index === 0 && this.flattenNhwc;
  }

  private toModelLayout<T extends Float32Array | Uint8Array>(slot: Slot, a: T): T {
    if (!this.reordered(slot)) return a;
    const { c, h, w } = this.net.flattenShape;
    return nhwcRows(a, c, h, w, this.dense[0].layer.out);
  }

  private toKernelLayout<T extends Float32Array | Uint8Array>(slot: Slot, a: T): T {
    if (!this.reordered(slot)) return a;
    const { c, h, w } = this.net.flattenShape;
    return channelMajorRows(a, c, h, w, this.dense[0].layer.out);
  }

  /** The arrays the step writes the window's dense gradients into (masked layers only). */
  private windowGradients(): (Float32Array | null)[] {
    return this.slots().map((slot, i) => {
      if (!this.specOf(slot).masked) return null;
      let g = this.denseGradient.get(i);
      if (!g) {
        g = new Float32Array(this.denseSize(slot));
        this.denseGradient.set(i, g);
      }
      return g;
    });
  }

  /**
   * `M ← μM + ∇W` over the dense filter/kernel, then the active positions overwritten with their exact momentum
   * (weight decay included): the masked path's buffer, where inactive weights are 0 and get no decay.
   */
  private accumulateDense(grads: readonly (Float32Array | null)[], mu: number): void {
    this.denseSteps++;
    this.slots().forEach((slot, i) => {
      const g = grads[i];
      if (!g) return;
      let m = this.denseMomentum.get(i);
      if (!m) {
        // Window opens: inactive positions start from 0 (their older momentum has decayed).
        m = new Float32Array(g.length);
        this.denseMomentum.set(i, m);
      }
      if (slot.kind === 'conv') {
        accumulateConvMomentum(this.convs[slot.index].layer, m, g, mu);
      } else {
        for (let k = 0; k < m.length; k++) m[k] = Math.fround(Math.fround(m[k] * mu) + g[k]);
        const l = this.dense[slot.index].layer;
        for (let o = 0; o < l.out; o++) {
          for (let k = l.colptr[o]; k < l.colptr[o + 1]; k++) m[l.rowidx[k] * l.out + o] = l.mom[k];
        }
      }
    });
  }

  private buildNet(): SparseCnnStep {
    return new SparseCnnStep(
      this.addon,
      this.convs.map((c, i) => ({ layer: c.layer, inH: c.inH, inW: c.inW, padding: c.padding, stride: c.stride, pool: c.pool, biasMom: this.convBiasMom[i] })),
      this.dense.map((d) => d.layer),
    );
  }
}
