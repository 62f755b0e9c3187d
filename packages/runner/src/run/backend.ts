import { selectBackend, type BackendChoice, type BackendRequest } from '@sparse-learning/backend-native';
import { modelInfo } from '@sparse-learning/models';

/** Models without convolutions (plain MLPs); every other zoo model has conv layers. */
const MLP_MODELS = new Set(['lenet300-100', 'set-mlp']);

/** True when the model needs convolution gradients (wasm needs the training-gradient overrides for them). */
export function modelNeedsConv(model: string): boolean {
  return !MLP_MODELS.has(modelInfo(model).id);
}

/**
 * Activates the backend for a model (spec: `auto` tries tfjs-node-gpu, tfjs-node, the native addon, wasm with
 * gradient overrides, then cpu) and returns the choice with the reason, which the runner prints and records.
 */
export async function activateBackend(request: BackendRequest, model: string): Promise<BackendChoice> {
  return selectBackend(request, { conv: modelNeedsConv(model) });
}
