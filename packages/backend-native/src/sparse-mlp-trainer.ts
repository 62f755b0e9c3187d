/**
 * Truly sparse training of an MLP (issue 9): the same schedule of steps and mask updates as core's
 * `SparseTrainer`, but every step runs in the native addon on compact layers ({@link SparseDenseLayer}) —
 * forward, softmax cross-entropy, backward and SGD in one call — so a step costs time proportional to the
 * active weights (Dettmers & Zettlemoyer 2019 §3 "faster training"; the paper only estimated it).
 *
 * The plugin API is unchanged: at each mask update the strategies get the same dense `LayerView` inputs
 * (weight, mask, and only what `requires` asks for: momentum, gradient), materialised from the compact
 * layers only then; the returned masks and weights become new compact layers (pruned entries removed, grown
 * entries inserted with the dense momentum at their position, as the masked path keeps momentum).
 *
 * Growth that needs dense information (momentum/gradient growth, momentum redistribution) gets it from a
 * *dense-gradient window*: during the last `denseGradWindow` steps before each mask update the dense weight
 * gradient `Aᵀ·δ` is computed (one GEMM per layer) and a dense momentum `M ← μM + ∇W` is kept, with the
 * active positions overwritten by their exact (weight-decayed) momentum. A window that covers every step
 * reproduces the masked path's momentum exactly (see the tests); momentum 0.9 forgets 99.9 % in 64 steps,
 * so the default 64 makes nearly the same growth decisions at a fraction of the cost.
 *
 * Differences from the masked path, by design: float summation order (kernels vs tfjs matmul: equal within
 * float32 tolerance, not bitwise); a non-finite loss is detected after the update of its step, not before.
 */
import { type MaskUpdateEvent, type MaskUpdateLayerInput, type Rng, SparseLearningError } from '@sparse-learning/core';
import {
  type SparseAddon,
  type SparseDenseLayer,
  maskOf,
  nnzOf,
  scatterDense,
  sparseLayerBytes,
  sparseLayerFromDense,
} from './sparse-layout.js';
import { type ArrayBatch, type SparseSgdOptions, type SparseStepResult, type SparseTrainerCoreOptions, SparseTrainerCore } from './sparse-trainer-core.js';

/** One Dense layer of the MLP, in order from input to logits. */
export interface SparseMlpLayerSpec {
  /** Name of the weight variable (the masked layer's name in `Masking`). */
  readonly weightName: string;
  readonly biasName: string | null;
  readonly layer: SparseDenseLayer;
  /** Whether the layer's weight is masked (updated by the mask updater); unmasked layers stay 100 % dense. */
  readonly masked: boolean;
}

/**
 * A mask update that works on the compact layers themselves, for models whose dense form does not fit in
 * memory (issue 9): it receives the masked layers and returns their replacements plus the event, never a
 * dense `[in, out]` array. Only strategies that need no dense information can run this way (SET's prune
 * with random growth); the runner provides it and refuses the others early.
 */
export interface CompactMaskUpdate {
  update(args: {
    readonly layers: readonly SparseMlpLayerSpec[];
    readonly pruneRate: number;
    readonly baselineNonzero: number;
    readonly step: number;
    readonly epoch: number;
    readonly rng: Rng;
  }): { readonly layers: readonly SparseDenseLayer[]; readonly event: MaskUpdateEvent };
}

/** Everything a {@link SparseMlpTrainer} composes (the schedules, trigger and streams: {@link SparseTrainerCoreOptions}). */
export interface SparseMlpTrainerOptions extends SparseTrainerCoreOptions {
  readonly addon: SparseAddon;
  readonly layers: readonly SparseMlpLayerSpec[];
  /** Largest batch a step or evaluation will see. */
  readonly maxBatch: number;
  readonly sgd: SparseSgdOptions;
  /** Dense momentum per masked layer (`[in, out]`) to start from, e.g. a resumed masked run's buffers. */
  readonly denseMomentum?: Readonly<Record<string, Float32Array>>;
  /**
   * Runs mask updates on the compact layers instead of through the `MaskUpdater` on dense views (models
   * whose dense form does not fit; see {@link CompactMaskUpdate}). Default: dense views.
   */
  readonly compactMaskUpdate?: CompactMaskUpdate;
}

/** See the module comment. */
export class SparseMlpTrainer extends SparseTrainerCore {
  readonly layers: SparseMlpLayerSpec[];
  private readonly addon: SparseAddon;
  private readonly maxBatch: number;
  private readonly sgd: SparseSgdOptions;
  private readonly compactMaskUpdate: CompactMaskUpdate | null;
  private plan: object;
  /** Dense momentum / last dense gradient per masked layer index, only while a window is open. */
  private denseMomentum = new Map<number, Float32Array>();
  private denseGradient = new Map<number, Float32Array>();
  private readonly lossOut = new Float64Array(2);
  /** Steps that computed dense gradients (for reports). */
  denseSteps = 0;

  constructor(options: SparseMlpTrainerOptions) {
    super(options);
    this.addon = options.addon;
    this.layers = [...options.layers];
    this.maxBatch = options.maxBatch;
    this.sgd = options.sgd;
    this.compactMaskUpdate = options.compactMaskUpdate ?? null;
    if (options.denseMomentum && this.needsDense) {
      this.layers.forEach((spec, i) => {
        const m = options.denseMomentum?.[spec.weightName];
        if (spec.masked && m) this.denseMomentum.set(i, Float32Array.from(m));
      });
    }
    this.plan = this.buildPlan();
  }

  /** One native training step on `batch` (`batch.labels.length` examples), then the mask update if due. */
  step(batch: ArrayBatch): SparseStepResult {
    const n = batch.labels.length;
    const learningRate = this.nextLearningRate();
    const { momentum, weightDecay, nesterov } = this.sgd;
    const lossSum = this.addon.sparseMlpStep(this.plan, batch.x, batch.labels, n, true, learningRate, momentum, weightDecay, nesterov, this.lossOut);
    const loss = lossSum / n;
    this.checkLoss(loss);
    if (this.needsDense && this.inWindow(this.stepCount + 1)) this.accumulateDense(momentum);
    return this.finishStep(loss, learningRate);
  }

  /** Mean NLL and top-1 accuracy (forward only, in native code). */
  evaluate(batches: Iterable<ArrayBatch>): { loss: number; accuracy: number; count: number } {
    return this.evaluateInChunks(batches, this.maxBatch, (x, labels, m) => {
      const lossSum = this.addon.sparseMlpStep(this.plan, x, labels, m, false, 0, 0, 0, false, this.lossOut);
      return { lossSum, correct: this.lossOut[1] };
    });
  }

  private accumulateDense(momentum: number): void {
    this.denseSteps++;
    this.layers.forEach((spec, i) => {
      if (!spec.masked) return;
      const size = spec.layer.in * spec.layer.out;
      let m = this.denseMomentum.get(i);
      if (!m) {
        // Window opens: inactive positions start from 0 (their older momentum has decayed), active ones are
        // overwritten with their exact momentum by the kernel.
        m = new Float32Array(size);
        this.denseMomentum.set(i, m);
      }
      let g = this.denseGradient.get(i);
      if (!g) {
        g = new Float32Array(size);
        this.denseGradient.set(i, g);
      }
      this.addon.sparseMlpDenseMomentum(this.plan, i, m, g, momentum, false);
    });
  }

  /**
   * One prune–redistribute–regrow cycle now, through the unchanged `MaskUpdater` (plugins see the same
   * layer views as on the masked path).
   */
  updateMasks(): MaskUpdateEvent {
    const updater = this.maskUpdater;
    if (!updater) throw new SparseLearningError('E_ENGINE_STATE', 'mask update requested without a mask updater');
    if (this.compactMaskUpdate) return this.updateMasksCompact(this.compactMaskUpdate);
    const wantsMomentum = updater.requires.has('momentum');
    const wantsGradient = updater.requires.has('gradient');
    const masked = this.layers.map((spec, i) => ({ spec, i })).filter(({ spec }) => spec.masked);
    const inputs: MaskUpdateLayerInput[] = masked.map(({ spec, i }) => ({
      name: spec.weightName,
      shape: [spec.layer.in, spec.layer.out],
      weight: scatterDense(spec.layer, spec.layer.vals),
      mask: maskOf(spec.layer),
      momentum: wantsMomentum ? (this.denseMomentum.get(i) ?? scatterDense(spec.layer, spec.layer.mom)) : null,
      gradient: wantsGradient ? (this.denseGradient.get(i) ?? null) : null,
    }));
    const result = this.runMaskUpdater(inputs);
    const byName = new Map(result.layers.map((r) => [r.name, r]));
    for (const { spec, i } of masked) {
      const r = byName.get(spec.weightName);
      if (!r) throw new SparseLearningError('E_ENGINE_STATE', `mask update returned no result for layer '${spec.weightName}'`);
      const old = spec.layer;
      // Momentum: the window's dense buffer, else the old layer's nonzeros (grown positions start at 0).
      const momentum = this.denseMomentum.get(i) ?? null;
      const layer = sparseLayerFromDense(r.weight, r.mask, old.in, old.out, { bias: old.bias, biasMom: old.biasMom, relu: old.relu, momentum, previous: old });
      this.layers[i] = { ...spec, layer };
    }
    // Keep the dense buffers only when the next step opens the next window anyway (window >= update interval):
    // then the dense momentum is continuous and equals the masked path's.
    if (!this.inWindow(this.stepCount + 1)) {
      this.denseMomentum.clear();
      this.denseGradient.clear();
    }
    this.plan = this.buildPlan();
    this.events.emit(result.event);
    return result.event;
  }

  /** {@link updateMasks} on the compact layers (no dense view; see {@link CompactMaskUpdate}). */
  private updateMasksCompact(compact: CompactMaskUpdate): MaskUpdateEvent {
    const masked = this.layers.map((spec, i) => ({ spec, i })).filter(({ spec }) => spec.masked);
    const result = compact.update({
      layers: masked.map(({ spec }) => spec),
      pruneRate: this.currentPruneRate,
      baselineNonzero: this.baselineNonzero,
      step: this.stepCount,
      epoch: this.epochCount,
      rng: this.maskRng,
    });
    masked.forEach(({ spec, i }, j) => (this.layers[i] = { ...spec, layer: result.layers[j] }));
    this.plan = this.buildPlan();
    this.events.emit(result.event);
    return result.event;
  }

  /**
   * The dense-gradient window's momentum buffers now (by masked layer name; empty outside a window), for a
   * checkpoint: a run interrupted inside a window resumes with them, bit for bit.
   */
  windowMomentum(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [i, m] of this.denseMomentum) out[this.layers[i].weightName] = m.slice();
    return out;
  }

  /** Replaces the compact layers and the window buffers with a checkpoint's (a fresh trainer, before its first step). */
  restoreLayers(layers: readonly SparseDenseLayer[], windowMomentum: Readonly<Record<string, Float32Array>>): void {
    if (layers.length !== this.layers.length) {
      throw new SparseLearningError('E_CHECKPOINT_INCOMPATIBLE', `checkpoint has ${layers.length} sparse layers, the model ${this.layers.length}`);
    }
    layers.forEach((layer, i) => (this.layers[i] = { ...this.layers[i], layer }));
    this.denseMomentum.clear();
    this.denseGradient.clear();
    // As the constructor's `denseMomentum`: kept only when a strategy or a run-long window reads it.
    if (this.needsDense) {
      this.layers.forEach((spec, i) => {
        const m = windowMomentum[spec.weightName];
        if (spec.masked && m) this.denseMomentum.set(i, Float32Array.from(m));
      });
    }
    this.plan = this.buildPlan();
  }

  /** The momentum the masked path would report per masked layer: dense window momentum, else the nonzeros'. */
  denseMomentumOf(index: number): Float32Array {
    const spec = this.layers[index];
    return this.denseMomentum.get(index)?.slice() ?? scatterDense(spec.layer, spec.layer.mom);
  }

  /** Active weights per layer. */
  activeCounts(): number[] {
    return this.layers.map((s) => nnzOf(s.layer));
  }

  /** Bytes of the compact layers plus the dense window buffers currently held. */
  bytes(): number {
    let total = this.layers.reduce((acc, s) => acc + sparseLayerBytes(s.layer), 0);
    for (const m of this.denseMomentum.values()) total += m.byteLength;
    for (const g of this.denseGradient.values()) total += g.byteLength;
    return total;
  }

  private buildPlan(): object {
    return this.addon.sparseMlpPlan(
      this.layers.map((s) => s.layer),
      this.maxBatch,
    );
  }
}
