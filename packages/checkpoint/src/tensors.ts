import * as tf from '@tensorflow/tfjs-core';
import { SparseLearningError } from '@sparse-learning/core';
import type { NamedVariable, OptimizerState } from '@sparse-learning/core';

/** Element types a checkpoint stores for model variables. */
export type VariableDtype = 'float32' | 'int32';

/** A snapshot of one model variable: shape, dtype and a private copy of its values. */
export interface CapturedVariable {
  readonly shape: readonly number[];
  readonly dtype: VariableDtype;
  readonly values: Float32Array | Int32Array;
}

/**
 * Every tensor of a run at one instant: model variables (weights, biases, batch-norm parameters *and*
 * running statistics), masks (`Uint8Array` of 0/1 per masked variable, same flat order as the variable), and
 * the optimizer state in the core {@link OptimizerState} format (slot buffers are dense, so the momentum of
 * zero weights — which Sparse Momentum grows from — is kept).
 */
export interface CapturedTensors {
  readonly variables: Readonly<Record<string, CapturedVariable>>;
  readonly masks: Readonly<Record<string, Uint8Array>>;
  readonly optimizer: OptimizerState | null;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Snapshots the model variables, masks and optimizer state into plain typed arrays (copies: the engine
 * keeps mutating its own buffers while the checkpoint is being written).
 *
 * @throws SparseLearningError `E_SHAPE_MISMATCH` when a mask's length differs from its variable's size, or
 *   `E_CHECKPOINT_INCOMPATIBLE` for a variable dtype other than float32/int32.
 */
export function captureTensors(
  variables: readonly NamedVariable[],
  masks: Readonly<Record<string, Uint8Array>>,
  optimizerState: OptimizerState | null,
): CapturedTensors {
  const capturedVariables: Record<string, CapturedVariable> = {};
  for (const { name, variable } of variables) {
    if (variable.dtype !== 'float32' && variable.dtype !== 'int32') {
      throw new SparseLearningError(
        'E_CHECKPOINT_INCOMPATIBLE',
        `variable '${name}' has dtype ${variable.dtype}; checkpoints store float32 and int32 variables`,
        { name, dtype: variable.dtype },
      );
    }
    // dataSync() may return the backend's own buffer (cpu backend): copy it.
    const data = variable.dataSync();
    const values = variable.dtype === 'float32' ? new Float32Array(data as Float32Array) : new Int32Array(data as Int32Array);
    capturedVariables[name] = { shape: [...variable.shape], dtype: variable.dtype, values };
  }
  const capturedMasks: Record<string, Uint8Array> = {};
  for (const [name, mask] of Object.entries(masks)) {
    const owner = capturedVariables[name];
    if (owner && owner.values.length !== mask.length) {
      throw new SparseLearningError(
        'E_SHAPE_MISMATCH',
        `mask '${name}' has ${mask.length} entries; variable '${name}' has shape [${owner.shape.join(', ')}] (${owner.values.length} values)`,
        { name, maskLength: mask.length, variableSize: owner.values.length },
      );
    }
    capturedMasks[name] = mask.slice();
  }
  let optimizer: OptimizerState | null = null;
  if (optimizerState) {
    const slots: Record<string, Record<string, Float32Array>> = {};
    for (const [name, perSlot] of Object.entries(optimizerState.slots)) {
      slots[name] = {};
      for (const [slot, values] of Object.entries(perSlot)) slots[name][slot] = values.slice();
    }
    optimizer = { id: optimizerState.id, iterations: optimizerState.iterations, slots };
  }
  return { variables: capturedVariables, masks: capturedMasks, optimizer };
}

/**
 * Assigns the captured values into the model's tf variables, bit for bit (the float32 bytes are handed to
 * tfjs unchanged). Masks and optimizer state are not touched here: hand `tensors.masks` to the masking engine
 * and `tensors.optimizer` to `SparseOptimizer.setState`.
 *
 * All checks run before the first assignment, so a mismatch leaves the model unchanged.
 *
 * @throws SparseLearningError `E_CHECKPOINT_INCOMPATIBLE` naming every variable that is missing from the
 *   checkpoint or whose shape or dtype differs.
 */
export function restoreVariables(variables: readonly NamedVariable[], tensors: CapturedTensors): void {
  const problems: string[] = [];
  for (const { name, variable } of variables) {
    const saved = tensors.variables[name];
    if (!saved) {
      problems.push(`variable '${name}' is not in the checkpoint`);
    } else if (saved.shape.length !== variable.shape.length || saved.shape.some((d, i) => d !== variable.shape[i])) {
      problems.push(`variable '${name}' has shape [${saved.shape.join(', ')}] in the checkpoint, [${variable.shape.join(', ')}] in the model`);
    } else if (saved.dtype !== variable.dtype) {
      problems.push(`variable '${name}' is ${saved.dtype} in the checkpoint, ${variable.dtype} in the model`);
    } else if (saved.values.length !== sizeOf(saved.shape)) {
      problems.push(`variable '${name}' has ${saved.values.length} values for shape [${saved.shape.join(', ')}]`);
    }
  }
  if (problems.length > 0) {
    throw new SparseLearningError('E_CHECKPOINT_INCOMPATIBLE', `cannot restore the model: ${problems.join('; ')}`, { problems });
  }
  for (const { name, variable } of variables) {
    const saved = tensors.variables[name];
    // A private copy: the cpu backend keeps the array it is given, and the caller may reuse `tensors`.
    const value = tf.tensor(saved.values.slice(), [...saved.shape], saved.dtype);
    variable.assign(value);
    value.dispose();
  }
}
