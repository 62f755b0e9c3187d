/**
 * Per-layer fields read only when a strategy reads them (issue 14). DeepR updates its masks after every step
 * and none of its strategies looks at momentum; reading the optimizer's buffers out of TensorFlow.js for every
 * layer at every step was a quarter of its mask update.
 *
 * How: an enumerable own accessor property, so `view.momentum`, a spread `{ ...view }` and `Object.keys` all
 * behave as with a plain field (the spread copies the value). The accessor is one shared function per field,
 * reading its source from a non-enumerable symbol slot: a getter closure per object would give every object
 * its own hidden class, held in V8's old generation with the closure and the arrays it captures, so the
 * layers' arrays would outlive the update until a full garbage collection (measured: a mark-compact every
 * third DeepR step).
 */
import type { LayerView } from '../contracts/layer-view.js';
import type { MaskUpdateLayerInput } from './types.js';

const READ_MOMENTUM = Symbol('sparse-learning: read momentum');
const MOMENTUM = Symbol('sparse-learning: momentum read');
const SOURCE = Symbol('sparse-learning: layer input');

interface LazyInputSlots {
  [READ_MOMENTUM]: () => Float32Array | null;
  [MOMENTUM]: Float32Array | null | undefined;
}

function lazyInputMomentum(this: LazyInputSlots): Float32Array | null {
  let value = this[MOMENTUM];
  if (value === undefined) {
    value = this[READ_MOMENTUM]();
    this[MOMENTUM] = value;
  }
  return value;
}

/**
 * A {@link MaskUpdateLayerInput} whose `momentum` is produced by `readMomentum` on first read (then kept): the
 * trainer reads the optimizer's buffer only when a strategy looks at it, during that update.
 */
export function lazyMomentumInput(
  fields: Omit<MaskUpdateLayerInput, 'momentum'>,
  readMomentum: () => Float32Array | null,
): MaskUpdateLayerInput {
  const input = { name: fields.name, shape: fields.shape, weight: fields.weight, mask: fields.mask };
  Object.defineProperty(input, 'momentum', { get: lazyInputMomentum, enumerable: true, configurable: true });
  Object.defineProperty(input, 'gradient', { value: fields.gradient, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(input, READ_MOMENTUM, { value: readMomentum });
  Object.defineProperty(input, MOMENTUM, { value: undefined, writable: true });
  return input as MaskUpdateLayerInput;
}

interface ViewSlots {
  [SOURCE]: MaskUpdateLayerInput;
}

function viewMomentum(this: ViewSlots): Float32Array | null {
  return this[SOURCE].momentum;
}

function viewGradient(this: ViewSlots): Float32Array | null {
  return this[SOURCE].gradient;
}

/**
 * A hook's view of one layer, its `momentum` and `gradient` read from `layer` when the hook reads them (so a
 * lazy input stays unread when no strategy needs it). Fields in the order of a plain view literal.
 */
export function layerView(
  layer: MaskUpdateLayerInput,
  index: number,
  mask: Uint8Array,
  activeCount: number,
  maskBeforePrune?: Uint8Array,
): LayerView {
  const view = { name: layer.name, index, shape: layer.shape, size: layer.weight.length, weight: layer.weight, mask };
  Object.defineProperty(view, 'momentum', { get: viewMomentum, enumerable: true, configurable: true });
  Object.defineProperty(view, 'gradient', { get: viewGradient, enumerable: true, configurable: true });
  Object.defineProperty(view, 'activeCount', { value: activeCount, enumerable: true, writable: true, configurable: true });
  if (maskBeforePrune) {
    Object.defineProperty(view, 'maskBeforePrune', { value: maskBeforePrune, enumerable: true, writable: true, configurable: true });
  }
  Object.defineProperty(view, SOURCE, { value: layer });
  return view as unknown as LayerView;
}
