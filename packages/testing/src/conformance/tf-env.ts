import * as tf from '@tensorflow/tfjs-core';

/**
 * Makes sure TensorFlow.js has a backend so `tf.memory()` can be read: registers the pure-JS `cpu` backend if
 * no backend is registered, then waits for the engine. Never imports `@tensorflow/tfjs-node`.
 */
export async function ensureTfBackend(): Promise<void> {
  if (!tf.findBackend('cpu') && !tf.findBackend('wasm') && !tf.findBackend('webgl')) {
    await import('@tensorflow/tfjs-backend-cpu');
  }
  await tf.ready();
}

/** Number of live tensors (the leak check reads it before and after the hook calls). */
export function liveTensors(): number {
  return tf.memory().numTensors;
}
