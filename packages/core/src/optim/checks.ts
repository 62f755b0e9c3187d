import type * as tf from '@tensorflow/tfjs-core';
import { SparseLearningError, outOfRangeError } from '../errors.js';

/** Throws `E_OUT_OF_RANGE` unless the learning rate is a finite number >= 0. */
export function checkLearningRate(value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw outOfRangeError('learningRate', value, 'a finite number >= 0');
  }
}

/** Looks up the variable a gradient belongs to. */
export function variableFor(
  optimizer: string,
  name: string,
  variables: Readonly<Record<string, tf.Variable>>,
): tf.Variable {
  const variable = variables[name];
  if (!variable) {
    throw new SparseLearningError(
      'E_SHAPE_MISMATCH',
      `${optimizer}: gradient '${name}' has no variable; variables: ${Object.keys(variables).join(', ')}`,
      { name },
    );
  }
  return variable;
}
