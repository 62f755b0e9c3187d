import * as tf from '@tensorflow/tfjs-core';
import { outOfRangeError } from '../errors.js';

/**
 * Name of the optional fused dense-layer kernel (issue 10: fewer kernel launches per step). A backend that
 * registers it *and* {@link FUSED_DENSE_GRAD_KERNEL} (the `native` backend of `@sparse-learning/backend-native`
 * does) runs a dense layer as one forward and one backward launch; everywhere else {@link fusedDense} runs the
 * stock composite (`tf.fused.matMul` + `tf.relu`, exactly what tfjs-layers' `Dense` and `ReLU` layers run).
 *
 * Contract: inputs `{ x: [M, K], w: [K, N], bias?: [N] }` (float32), attrs `{ activation: 'linear' | 'relu' }`;
 * output `y: [M, N] = act(x·w + bias)`, rounded as the backend's own `_FusedMatMul` (linear, with bias)
 * followed by its `Relu`, so results equal the composite's on that backend bit for bit.
 */
export const FUSED_DENSE_KERNEL = 'SparseLearningDense';

/**
 * Name of the backward kernel of {@link FUSED_DENSE_KERNEL}. Inputs `{ dy: [M, N], x, w, y }` (`y` = the
 * forward output), attrs `{ activation, hasBias }`; outputs `[dx, dw]`, plus `db` when `hasBias`, computed as
 * tfjs-core's `fusedMatMul` gradient after the `Relu` gradient: `dyAct = relu ? dy·step(y) : dy`,
 * `dx = dyAct·wᵀ`, `dw = xᵀ·dyAct`, `db = Σ_rows dyAct` — the same GEMMs (shapes and transposes) and the same
 * reduction as the backend's `BatchMatMul` and `Sum`, so the gradients equal the composite's bit for bit.
 */
export const FUSED_DENSE_GRAD_KERNEL = 'SparseLearningDenseGrad';

/** Activations {@link fusedDense} fuses (the hidden and output layers of the paper's MLPs). */
export type FusedDenseActivation = 'linear' | 'relu';

/** True when the active backend registers both fused dense kernels. */
export function hasFusedDenseKernels(): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(FUSED_DENSE_KERNEL, backend) !== undefined && tf.getKernel(FUSED_DENSE_GRAD_KERNEL, backend) !== undefined;
}

/**
 * One dense layer, `act(x·w + bias)` for a `[M, K]` input and a `[K, N]` kernel (PyTorch `nn.Linear` with the
 * weight stored transposed, then an optional ReLU; docs/algorithm.md#models), differentiable by
 * `tf.variableGrads`.
 *
 * On a backend that registers {@link FUSED_DENSE_KERNEL} and {@link FUSED_DENSE_GRAD_KERNEL} it is one
 * forward launch and one backward launch (a `tf.customGrad` around the two kernels) instead of the ~20
 * launches (reshapes, clones, matmuls, bias sum, ReLU and its gradient) of the composite; elsewhere it is
 * the composite itself — `tf.fused.matMul({ a: x, b: w, bias })` followed by `tf.relu` — whose results the
 * kernels reproduce exactly (tests compare both on cpu, wasm and native).
 * @throws `E_OUT_OF_RANGE` for another activation.
 */
export function fusedDense(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | null, activation: FusedDenseActivation): tf.Tensor {
  if (activation !== 'linear' && activation !== 'relu') throw outOfRangeError('fusedDense.activation', activation, "'linear' or 'relu'");
  const fast = x.rank === 2 && w.rank === 2 && x.dtype === 'float32' && w.dtype === 'float32' && (bias === null || (bias.rank === 1 && bias.dtype === 'float32'));
  if (fast && hasFusedDenseKernels()) return bias ? fusedWithBias(activation)(x, w, bias) : fusedNoBias(activation)(x, w);
  const y = tf.fused.matMul({ a: x, b: w, bias: bias ?? undefined, transposeA: false, transposeB: false, activation: 'linear' });
  return activation === 'relu' ? tf.relu(y) : y;
}

type Grads = tf.Tensor[];
/** tf.customGrad's parameter type (its inputs arrive as `Tensor | GradSaveFunc`). */
type CustomFunc = Parameters<typeof tf.customGrad>[0];

function backward(dy: tf.Tensor, saved: tf.Tensor[], w: tf.Tensor, activation: FusedDenseActivation, hasBias: boolean): Grads {
  const [x, y, savedW] = saved;
  return tf.engine().runKernel(FUSED_DENSE_GRAD_KERNEL, { dy, x, w: savedW ?? w, y }, { activation, hasBias }) as Grads;
}

/**
 * The tensors the backward needs, kept by the tape: `x` and `y`, and `w` unless it is a variable. A variable
 * is never disposed by a scope and keeps its value until the optimizer assigns it, after the backward pass,
 * so the closure's reference is enough; a clone would cost a launch per layer and step (issue 10).
 */
function saveFor(save: tf.GradSaveFunc, x: tf.Tensor, w: tf.Tensor, y: tf.Tensor): void {
  save(w instanceof tf.Variable ? [x, y] : [x, y, w]);
}

// One customGrad closure per (activation, bias) pair, made once: tf.customGrad builds a new function per call.
const withBias = new Map<FusedDenseActivation, (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor>();
const noBias = new Map<FusedDenseActivation, (x: tf.Tensor, w: tf.Tensor) => tf.Tensor>();

function fusedWithBias(activation: FusedDenseActivation): (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  let op = withBias.get(activation);
  if (!op) {
    op = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
      const y = tf.engine().runKernel(FUSED_DENSE_KERNEL, { x, w, bias: b }, { activation }) as tf.Tensor;
      saveFor(save, x, w, y);
      return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => backward(dy, saved, w, activation, true) };
    }) as CustomFunc) as (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor;
    withBias.set(activation, op);
  }
  return op;
}

function fusedNoBias(activation: FusedDenseActivation): (x: tf.Tensor, w: tf.Tensor) => tf.Tensor {
  let op = noBias.get(activation);
  if (!op) {
    op = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
      const y = tf.engine().runKernel(FUSED_DENSE_KERNEL, { x, w }, { activation }) as tf.Tensor;
      saveFor(save, x, w, y);
      return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => backward(dy, saved, w, activation, false) };
    }) as CustomFunc) as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;
    noBias.set(activation, op);
  }
  return op;
}
