/**
 * Truly sparse training of a CNN with batch norm, residual blocks and dropout (issue 9) — WideResNet
 * (docs/algorithm.md#models) and any network given as a graph of tfjs ops — with the same schedule of steps and
 * mask updates as core's `SparseTrainer` ({@link SparseTrainerCore}).
 *
 * The model's own graph runs on the `native` backend; every conv listed in `convs` runs as a sparse conv op
 * over its compact active weights ({@link SparseConvOps}: forward, input gradient, weight gradient at the
 * nonzeros fused with SGD), so the cost of the convolutions follows the active weights. Every other node (batch
 * norm with its running statistics, ReLU, seeded dropout, residual adds, pooling, the classifier) is the
 * model's layer itself, so it computes what the masked path computes: the same dropout masks from the same
 * keyed stream, the same BN statistics. The parameters outside the convs (BN γ/β, classifier weight and bias)
 * are trained by the session's own optimizer exactly as on the masked path, masked ones (the classifier
 * weight) multiplied by their mask after the update (docs/algorithm.md#one-training-step).
 *
 * Mask updates run through the unchanged `MaskUpdater` in the masking's layer order: conv layers get dense
 * views materialised from the compact layers only then (HWIO; momentum and gradient only when `requires` asks),
 * and are edited in place ({@link editConvLayer}); dense-kept masked parameters get their variable, mask and the
 * optimizer's momentum, as on the masked path. Momentum/gradient growth reads the dense-gradient window: during
 * the last `denseGradWindow` steps before an update every masked conv also computes its dense filter gradient
 * and a dense momentum is kept ({@link accumulateConvMomentum}); a window covering the run reproduces the
 * masked path (tests: same masks, weights and BN statistics within float32 tolerance).
 *
 * Differences from the masked path, by design: float summation order; a non-finite loss is detected after the
 * conv updates of its step (they run inside the backward pass), before the other parameters' update.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type Batch,
  type MaskUpdateEvent,
  type MaskUpdateLayerInput,
  type SparseOptimizer,
  SparseLearningError,
  logSoftmaxNll,
  nllLoss,
} from '@sparse-learning/core';
import { editConvLayer } from './sparse-conv-edit.js';
import { type ConvGeometry, type SparseConvLayer, accumulateConvMomentum, convNnzOf, scatterConvDense, sparseConvLayerBytes } from './sparse-conv-layout.js';
import { type SparseConvOpAddon, type SparseConvUnit, SparseConvOps } from './sparse-conv-op.js';
import { type SparseSgdOptions, type SparseStepResult, type SparseTrainerCoreOptions, SparseTrainerCore } from './sparse-trainer-core.js';

/** One node of the network graph, in a topological order. */
export type SparseGraphNode =
  | { readonly kind: 'input'; readonly name: string }
  /** Conv `convs[conv]` on the output of node `input` (plus `bias`, a dense variable, when the conv has one). */
  | { readonly kind: 'conv'; readonly name: string; readonly input: string; readonly conv: number; readonly bias?: tf.Variable }
  /** Any other layer: `apply` runs it on its inputs' tensors in training or inference mode. */
  | {
      readonly kind: 'layer';
      readonly name: string;
      readonly inputs: readonly string[];
      readonly apply: (inputs: readonly tf.Tensor[], training: boolean) => tf.Tensor;
    };

/** A conv of the graph that runs sparse. */
export interface SparseGraphConvSpec {
  /** Name of the filter variable (the masked layer's name in `Masking`). */
  readonly weightName: string;
  /** The compact filter (linear, no bias: a conv bias is a dense parameter added after the op). */
  readonly layer: SparseConvLayer;
  /** Geometry over the unpadded input, explicit top/left padding included. */
  readonly geometry: ConvGeometry;
  /** False for a conv on the network's input (no input gradient needed). */
  readonly needsInputGradient: boolean;
  /** Whether the mask updater edits this filter. */
  readonly masked: boolean;
}

/** A parameter trained densely by the optimizer (BN γ/β, biases, the classifier); `mask` when it is masked. */
export interface SparseGraphParamSpec {
  readonly name: string;
  readonly variable: tf.Variable;
  readonly mask: Uint8Array | null;
}

/** Everything a {@link SparseGraphTrainer} composes (schedules, trigger, streams: {@link SparseTrainerCoreOptions}). */
export interface SparseGraphTrainerOptions extends SparseTrainerCoreOptions {
  readonly addon: SparseConvOpAddon;
  /** The native backend the graph runs on. */
  readonly backendName: string;
  readonly nodes: readonly SparseGraphNode[];
  /** Name of the node that outputs the logits. */
  readonly output: string;
  readonly convs: readonly SparseGraphConvSpec[];
  readonly params: readonly SparseGraphParamSpec[];
  /** The optimizer of the dense parameters (the session's: PyTorch SGD, as on the masked path). */
  readonly optimizer: SparseOptimizer;
  /** The SGD of the sparse convs (the same hyper-parameters as `optimizer`). */
  readonly sgd: SparseSgdOptions;
  /** Names of the masked layers in the masking's order (the order the mask updater sees them). */
  readonly maskedOrder: readonly string[];
  /** Mean training loss of logits and labels; default core's `logSoftmaxNll` (the models' fused loss). */
  readonly loss?: (logits: tf.Tensor, labels: tf.Tensor) => tf.Scalar;
  /** Dense momentum per masked conv, HWIO, to start from (e.g. a resumed masked run's buffers). */
  readonly denseMomentum?: Readonly<Record<string, Float32Array>>;
}

/** A conv in the model's layout (HWIO), as the session stores it. */
export interface SparseGraphConvView {
  readonly weightName: string;
  readonly shape: readonly number[];
  readonly weight: Float32Array;
  readonly mask: Uint8Array;
  /** The momentum the masked path would hold: the window's dense momentum, else the nonzeros' (zeros elsewhere). */
  readonly momentum: Float32Array;
}

/** See the module comment. */
export class SparseGraphTrainer extends SparseTrainerCore {
  readonly convs: SparseGraphConvSpec[];
  readonly params: readonly SparseGraphParamSpec[];
  private readonly nodes: readonly SparseGraphNode[];
  private readonly output: string;
  private readonly optimizer: SparseOptimizer;
  private readonly sgd: SparseSgdOptions;
  private readonly maskedOrder: readonly string[];
  private readonly lossOf: (logits: tf.Tensor, labels: tf.Tensor) => tf.Scalar;
  private readonly ops: SparseConvOps;
  private readonly units: SparseConvUnit[];
  private readonly anchor: tf.Variable;
  private readonly paramVars: Record<string, tf.Variable>;
  /** Masks of the masked dense parameters (float32 tensors, owned here). */
  private paramMasks: Record<string, tf.Tensor> = {};
  /** Dense momentum / last dense gradient per conv index (HWIO), during the window. */
  private denseMomentum = new Map<number, Float32Array>();
  private denseGradient = new Map<number, Float32Array>();
  /** Last gradients of the masked dense parameters (kept when a strategy reads gradients). */
  private lastParamGradients = new Map<string, Float32Array>();
  /** Steps that computed dense gradients (for reports). */
  denseSteps = 0;

  constructor(options: SparseGraphTrainerOptions) {
    super(options);
    this.convs = [...options.convs];
    this.params = options.params;
    this.nodes = options.nodes;
    this.output = options.output;
    this.optimizer = options.optimizer;
    this.sgd = options.sgd;
    this.maskedOrder = options.maskedOrder;
    this.lossOf = options.loss ?? logSoftmaxNll;
    const known = new Set([...this.convs.filter((c) => c.masked).map((c) => c.weightName), ...this.params.filter((p) => p.mask).map((p) => p.name)]);
    const missing = this.maskedOrder.find((n) => !known.has(n));
    if (missing || known.size !== this.maskedOrder.length) {
      throw new SparseLearningError('E_CONFIG_INVALID', `sparse graph trainer: masked layer '${missing ?? '?'}' is neither a sparse conv nor a masked parameter`);
    }
    if (!this.nodes.some((n) => n.name === this.output)) throw new SparseLearningError('E_CONFIG_INVALID', `sparse graph trainer: no node '${this.output}'`);
    this.ops = new SparseConvOps(options.addon, options.backendName);
    const sgd0 = { lr: 0, ...options.sgd };
    this.units = this.convs.map((c) =>
      this.ops.add({ layer: c.layer, geometry: c.geometry, needsInputGradient: c.needsInputGradient, sgd: sgd0, denseGradient: null }),
    );
    // tidy: the variable keeps the scalar's data; the scalar tensor itself would outlive dispose() otherwise.
    this.anchor = tf.tidy(() => tf.variable(tf.scalar(0), true, `sparse-graph-anchor-${Math.random().toString(36).slice(2)}`));
    this.paramVars = Object.fromEntries(this.params.map((p) => [p.name, p.variable]));
    for (const p of this.params) if (p.mask) this.paramMasks[p.name] = tf.tensor(Float32Array.from(p.mask), p.variable.shape, 'float32');
    if (options.denseMomentum && this.needsDense) {
      this.convs.forEach((c, i) => {
        const m = options.denseMomentum?.[c.weightName];
        if (c.masked && m) this.denseMomentum.set(i, Float32Array.from(m));
      });
    }
  }

  /** One training step on `batch` (NHWC inputs on the native backend), then the mask update if due. */
  step(batch: Batch): SparseStepResult {
    const learningRate = this.nextLearningRate();
    const window = this.needsDense && this.inWindow(this.stepCount + 1);
    const sgd = { lr: learningRate, ...this.sgd };
    this.units.forEach((u, i) => {
      u.layer = this.convs[i].layer;
      u.sgd = sgd;
      u.denseGradient = window && this.convs[i].masked ? this.windowGradient(i) : null;
    });
    this.optimizer.learningRate = learningRate;
    const keepGradients = this.maskUpdater?.requires.has('gradient') ?? false;
    let loss = Number.NaN;
    tf.tidy(() => {
      this.ops.beginPass();
      const varList = [this.anchor, ...Object.values(this.paramVars)];
      const { value, grads } = tf.variableGrads(() => this.lossOf(this.forward(batch.inputs, true), batch.labels), varList);
      loss = value.dataSync()[0];
      this.checkLoss(loss);
      const byName = new Map(Object.values(this.paramVars).map((v) => [v.name, v]));
      const gradients: Record<string, tf.Tensor> = {};
      for (const p of this.params) {
        const g = grads[p.variable.name];
        if (g && byName.has(p.variable.name)) gradients[p.name] = g;
      }
      if (this.optimizer.applyGradientsMasked && Object.keys(this.paramMasks).length > 0) {
        this.optimizer.applyGradientsMasked(gradients, this.paramVars, this.paramMasks);
      } else {
        this.optimizer.applyGradients(gradients, this.paramVars);
        for (const [name, mask] of Object.entries(this.paramMasks)) this.paramVars[name].assign(tf.mul(this.paramVars[name], mask));
      }
      if (keepGradients) for (const name of Object.keys(this.paramMasks)) if (gradients[name]) this.lastParamGradients.set(name, Float32Array.from(gradients[name].dataSync()));
    });
    if (window) {
      this.denseSteps++;
      this.units.forEach((u, i) => {
        if (!u.denseGradient) return;
        let m = this.denseMomentum.get(i);
        // Window opens: inactive positions start from 0 (their older momentum has decayed).
        if (!m) this.denseMomentum.set(i, (m = new Float32Array(u.denseGradient.length)));
        accumulateConvMomentum(this.convs[i].layer, m, u.denseGradient, this.sgd.momentum);
      });
    }
    return this.finishStep(loss, learningRate);
  }

  /** Mean NLL and top-1 accuracy in inference mode (BN on running statistics, no dropout), as core's `SparseTrainer.evaluate`. */
  evaluate(batches: Iterable<Batch>): { loss: number; accuracy: number; count: number } {
    this.units.forEach((u, i) => (u.layer = this.convs[i].layer));
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    for (const batch of batches) {
      const [lossTotal, hits] = tf.tidy(() => {
        this.ops.beginPass();
        const logProbabilities = tf.logSoftmax(this.forward(batch.inputs, false));
        const n = logProbabilities.shape[0];
        const predicted = tf.argMax(logProbabilities, -1);
        const right = tf.sum(tf.cast(tf.equal(predicted, tf.cast(batch.labels, 'int32')), 'float32'));
        return [tf.mul(nllLoss(logProbabilities, batch.labels), n), right];
      });
      lossSum += lossTotal.dataSync()[0];
      correct += hits.dataSync()[0];
      count += batch.labels.shape[0];
      tf.dispose([lossTotal, hits]);
    }
    return count === 0 ? { loss: Number.NaN, accuracy: Number.NaN, count } : { loss: lossSum / count, accuracy: correct / count, count };
  }

  /**
   * One prune–redistribute–regrow cycle now, through the unchanged `MaskUpdater` (the layers in the masking's
   * order, with the same dense views as on the masked path).
   */
  updateMasks(): MaskUpdateEvent {
    const updater = this.maskUpdater;
    if (!updater) throw new SparseLearningError('E_ENGINE_STATE', 'mask update requested without a mask updater');
    const wantsMomentum = updater.requires.has('momentum');
    const wantsGradient = updater.requires.has('gradient');
    const convIndex = new Map(this.convs.map((c, i) => [c.weightName, i]));
    const paramByName = new Map(this.params.map((p) => [p.name, p]));
    const inputs: MaskUpdateLayerInput[] = this.maskedOrder.map((name) => {
      const i = convIndex.get(name);
      if (i !== undefined) {
        const view = this.convView(i);
        const gradient = wantsGradient ? this.denseGradient.get(i) : undefined;
        return { name, shape: view.shape, weight: view.weight, mask: view.mask, momentum: wantsMomentum ? view.momentum : null, gradient: gradient ? gradient.slice() : null };
      }
      const p = paramByName.get(name)!;
      return {
        name,
        shape: p.variable.shape,
        weight: Float32Array.from(p.variable.dataSync()),
        mask: Uint8Array.from(this.paramMasks[name].dataSync()),
        momentum: wantsMomentum ? this.optimizerMomentum(name, p.variable.size) : null,
        gradient: wantsGradient ? (this.lastParamGradients.get(name)?.slice() ?? null) : null,
      };
    });
    const result = this.runMaskUpdater(inputs);
    const byName = new Map(result.layers.map((r) => [r.name, r]));
    for (const name of this.maskedOrder) {
      const r = byName.get(name);
      if (!r) throw new SparseLearningError('E_ENGINE_STATE', `mask update returned no result for layer '${name}'`);
      const i = convIndex.get(name);
      let active: number;
      if (i !== undefined) {
        const layer = editConvLayer(this.convs[i].layer, r.prunedIndices, r.grownIndices, r.weight, this.denseMomentum.get(i) ?? null);
        this.convs[i] = { ...this.convs[i], layer };
        this.units[i].layer = layer;
        active = convNnzOf(layer);
      } else {
        const p = paramByName.get(name)!;
        tf.tidy(() => p.variable.assign(tf.tensor(r.weight, p.variable.shape, 'float32')));
        this.paramMasks[name].dispose();
        this.paramMasks[name] = tf.tensor(Float32Array.from(r.mask), p.variable.shape, 'float32');
        active = r.mask.reduce((a, b) => a + (b ? 1 : 0), 0);
      }
      if (active !== r.activeAfter) {
        throw new SparseLearningError('E_ENGINE_STATE', `layer '${name}' holds ${active} active weights after the update, the updater counted ${r.activeAfter}`);
      }
    }
    // Keep the dense buffers only when the next step opens the next window anyway (as SparseCnnTrainer).
    if (!this.inWindow(this.stepCount + 1)) {
      this.denseMomentum.clear();
      this.denseGradient.clear();
    }
    this.events.emit(result.event);
    return result.event;
  }

  /** Conv `index` in the model's layout (HWIO), for checkpoints and metrics. */
  convView(index: number): SparseGraphConvView {
    const c = this.convs[index];
    if (!c) throw new SparseLearningError('E_OUT_OF_RANGE', `conv index ${index}; expected 0..${this.convs.length - 1}`);
    const l = c.layer;
    const ones = new Float32Array(l.vals.length).fill(1);
    return {
      weightName: c.weightName,
      shape: [l.kh, l.kw, l.cin, l.cout],
      weight: scatterConvDense(l, l.vals),
      mask: Uint8Array.from(scatterConvDense(l, ones)),
      momentum: this.denseMomentum.get(index)?.slice() ?? scatterConvDense(l, l.mom),
    };
  }

  /** The current mask of a masked dense parameter. */
  paramMask(name: string): Uint8Array | null {
    const m = this.paramMasks[name];
    return m ? Uint8Array.from(m.dataSync()) : null;
  }

  /** Active weights per masked layer, in the masking's order. */
  activeCounts(): number[] {
    const convIndex = new Map(this.convs.map((c, i) => [c.weightName, i]));
    return this.maskedOrder.map((name) => {
      const i = convIndex.get(name);
      return i !== undefined ? convNnzOf(this.convs[i].layer) : this.paramMask(name)!.reduce((a, b) => a + b, 0);
    });
  }

  /** Bytes of the compact conv layers, the dense window buffers and the ops' work buffers. */
  bytes(): number {
    let total = this.convs.reduce((acc, c) => acc + sparseConvLayerBytes(c.layer), 0) + this.ops.bytes();
    for (const m of this.denseMomentum.values()) total += m.byteLength;
    for (const g of this.denseGradient.values()) total += g.byteLength;
    return total;
  }

  /** Milliseconds in the sparse conv ops' layout conversions and kernels since construction (profiling). */
  get convTimings(): Readonly<SparseConvOps['timings']> {
    return this.ops.timings;
  }

  /** Releases the trainer's tensors and buffers (the model, optimizer and variables belong to the caller). */
  dispose(): void {
    this.ops.dispose();
    this.anchor.dispose();
    tf.dispose(Object.values(this.paramMasks));
    this.paramMasks = {};
  }

  /** The network on `x`: every node in order, the sparse convs through their op. */
  private forward(x: tf.Tensor, training: boolean): tf.Tensor {
    const values = new Map<string, tf.Tensor>();
    const get = (name: string): tf.Tensor => {
      const v = values.get(name);
      if (!v) throw new SparseLearningError('E_ENGINE_STATE', `sparse graph: node '${name}' has no value yet (nodes out of order?)`);
      return v;
    };
    for (const node of this.nodes) {
      if (node.kind === 'input') values.set(node.name, x);
      else if (node.kind === 'conv') {
        const y = this.ops.apply(this.units[node.conv], get(node.input), this.anchor);
        values.set(node.name, node.bias ? tf.add(y, node.bias) : y);
      } else values.set(node.name, node.apply(node.inputs.map(get), training));
    }
    return get(this.output);
  }

  private windowGradient(i: number): Float32Array {
    let g = this.denseGradient.get(i);
    if (!g) {
      const l = this.convs[i].layer;
      g = new Float32Array(l.kh * l.kw * l.cin * l.cout);
      this.denseGradient.set(i, g);
    }
    return g;
  }

  private optimizerMomentum(name: string, size: number): Float32Array {
    const t = this.optimizer.momentumOf(name);
    if (!t) return new Float32Array(size);
    const values = Float32Array.from(t.dataSync());
    t.dispose();
    return values;
  }
}
