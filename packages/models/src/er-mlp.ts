import * as tfl from '@tensorflow/tfjs-layers';
import { SparseLearningError } from '@sparse-learning/core';
import { ModelBuilder } from './builder.js';
import { denseChainForward } from './dense-chain.js';
import { finishModel } from './layers-trainable-model.js';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { resolveShape } from './model-options.js';
import type { InputShape, ModelOptions } from './model-options.js';

/** Id pattern of the Erdős–Rényi MLP family: `er-mlp-<width>`, e.g. `er-mlp-100000`. */
export const ER_MLP_PATTERN = /^er-mlp-([1-9][0-9]*)$/;
/** How the family is listed (`models`, error messages). */
export const ER_MLP_FAMILY = 'er-mlp-<width>';
/** Largest hidden width the family accepts (the native kernels index activations with 32-bit ints). */
export const ER_MLP_MAX_WIDTH = 1_000_000;

/** The hidden width of an `er-mlp-<width>` id, or null when `id` is not of the family. */
export function erMlpWidth(id: string): number | null {
  const hit = ER_MLP_PATTERN.exec(id);
  if (!hit) return null;
  const width = Number(hit[1]);
  if (!Number.isSafeInteger(width) || width > ER_MLP_MAX_WIDTH) {
    throw new SparseLearningError('E_OUT_OF_RANGE', `model '${id}': hidden width ${hit[1]} is not an integer in 1..${ER_MLP_MAX_WIDTH}`, {
      field: 'model',
      value: id,
      valid: `${ER_MLP_FAMILY} with 1 <= width <= ${ER_MLP_MAX_WIDTH}`,
    });
  }
  return width;
}

/** One Dense layer of a {@link DenseChainSpec}: `<name>.weight` `[in, out]`, `<name>.bias` `[out]` (PyTorch names). */
export interface DenseChainLayer {
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
  /** ReLU after the layer (every layer but the logits). */
  readonly relu: boolean;
}

/**
 * The structure of a fully connected chain `Flatten → (linear → ReLU)* → linear` known without building the
 * model: what a truly sparse session needs to lay out compact layers whose dense kernels would not fit in
 * memory (issue 9). Every layer uses PyTorch's default `nn.Linear` init, weight and bias uniform in
 * ±1/√in (docs/algorithm.md#initialisation).
 */
export interface DenseChainSpec {
  readonly modelId: string;
  readonly inputShape: InputShape;
  readonly numClasses: number;
  readonly layers: readonly DenseChainLayer[];
}

function chain(modelId: string, inputShape: InputShape, widths: readonly number[]): DenseChainSpec {
  const layers = widths.slice(1).map((outFeatures, i) => ({
    name: `fc${i + 1}`,
    inFeatures: widths[i],
    outFeatures,
    bias: true,
    relu: i < widths.length - 2,
  }));
  return { modelId, inputShape, numClasses: widths[widths.length - 1], layers };
}

/** Widths `[in, hidden…, classes]` of the dense-chain models of the zoo, or null for other models. */
function chainWidths(id: string, inFeatures: number, numClasses: number): number[] | null {
  if (id === 'lenet300-100') return [inFeatures, 300, 100, numClasses];
  if (id === 'set-mlp') return [inFeatures, 4000, 1000, 4000, numClasses];
  const width = erMlpWidth(id);
  return width === null ? null : [inFeatures, width, width, numClasses];
}

/**
 * The {@link DenseChainSpec} of a zoo model that is a plain ReLU MLP with biases (`lenet300-100`, `set-mlp`,
 * `er-mlp-<width>`), without building it; null for any other model.
 */
export function denseChainSpec(id: string, options: ModelOptions = {}): DenseChainSpec | null {
  const { inputShape, numClasses } = resolveShape(options, [28, 28, 1], 10);
  const widths = chainWidths(id, inputShape[0] * inputShape[1] * inputShape[2], numClasses);
  return widths === null ? null : chain(id, inputShape, widths);
}

/**
 * The Erdős–Rényi MLP of SET's scaling experiments (Mocanu et al. 2018 §"Results": wide sparse MLPs on MNIST,
 * ε connections per neuron): `fc1 784→W → ReLU → fc2 W→W → ReLU → fc3 W→10`, all with bias, PyTorch default
 * init. Its sparsity is the run's: SET's preset draws Erdős–Rényi masks (density ∝ (in+out)/(in·out)), so at a
 * fixed ε the active weights grow with W while the dense form grows with W². Built here as a tfjs model for
 * the masked path and small widths; a truly sparse run of a wide one never builds it (issue 9,
 * {@link denseChainSpec}).
 */
export function createErMlp(id: string, options: ModelOptions = {}): LayersTrainableModel {
  const width = erMlpWidth(id);
  if (width === null) throw new SparseLearningError('E_UNKNOWN_ID', `'${id}' is not an ${ER_MLP_FAMILY} id`, { value: id, valid: [ER_MLP_FAMILY] });
  const { inputShape, numClasses } = resolveShape(options, [28, 28, 1], 10);
  const inFeatures = inputShape[0] * inputShape[1] * inputShape[2];
  const b = new ModelBuilder(options.seed, options);
  const widths = [inFeatures, width, width, numClasses];
  const layers = widths.slice(1).map((outFeatures, i) => b.linear(`fc${i + 1}`, { inFeatures: widths[i], outFeatures }));
  const input = tfl.input({ shape: [...inputShape] });
  let x = b.flatten()(input);
  layers.forEach((layer, i) => {
    x = layer(x);
    if (i < layers.length - 1) x = b.relu()(x);
  });
  const direct = denseChainForward(['fc1', 'fc2', 'fc3'], inFeatures);
  return finishModel(id, b, input, x, inputShape, numClasses, direct);
}
