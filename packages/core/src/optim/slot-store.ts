import * as tf from '@tensorflow/tfjs-core';
import { SparseLearningError } from '../errors.js';

/**
 * Per-variable optimizer buffers (slots), kept as dense tensors and readable by variable name.
 *
 * Slots restored from a checkpoint arrive as flat `Float32Array`s without shapes (the {@link OptimizerState}
 * format); they stay pending until the variable is next seen, then take its shape.
 */
export class SlotStore {
  private readonly tensors = new Map<string, Map<string, tf.Tensor>>();
  private readonly pending = new Map<string, Map<string, Float32Array>>();

  /** The slot tensor, materialising a restored value with `shape` if needed. */
  get(name: string, slot: string, shape?: readonly number[]): tf.Tensor | undefined {
    const existing = this.tensors.get(name)?.get(slot);
    if (existing) return existing;
    const flat = this.pending.get(name)?.get(slot);
    if (!flat) return undefined;
    const size = shape ? shape.reduce((a, b) => a * b, 1) : flat.length;
    if (size !== flat.length) {
      throw new SparseLearningError(
        'E_SHAPE_MISMATCH',
        `restored optimizer slot '${slot}' of '${name}' has ${flat.length} values; the variable has shape [${shape?.join(', ')}] (${size} values)`,
        { name, slot },
      );
    }
    const tensor = tf.keep(tf.tensor(flat, shape ? [...shape] : [flat.length], 'float32'));
    this.pending.get(name)?.delete(slot);
    this.set(name, slot, tensor);
    return tensor;
  }

  /** Replaces a slot, disposing the previous tensor. The store takes ownership of `tensor`. */
  set(name: string, slot: string, tensor: tf.Tensor): void {
    let slots = this.tensors.get(name);
    if (!slots) {
      slots = new Map();
      this.tensors.set(name, slots);
    }
    const previous = slots.get(slot);
    if (previous && previous !== tensor) previous.dispose();
    slots.set(slot, tensor);
  }

  /** Flat copies of every slot, pending ones included. */
  snapshot(): Record<string, Record<string, Float32Array>> {
    const out: Record<string, Record<string, Float32Array>> = {};
    for (const [name, slots] of this.pending) {
      for (const [slot, flat] of slots) (out[name] ??= {})[slot] = flat.slice();
    }
    for (const [name, slots] of this.tensors) {
      for (const [slot, tensor] of slots) (out[name] ??= {})[slot] = Float32Array.from(tensor.dataSync());
    }
    return out;
  }

  /** Drops every slot and keeps `slots` as pending values. */
  restore(slots: Readonly<Record<string, Readonly<Record<string, Float32Array>>>>): void {
    this.clear();
    for (const [name, byName] of Object.entries(slots)) {
      const map = new Map<string, Float32Array>();
      for (const [slot, flat] of Object.entries(byName)) map.set(slot, Float32Array.from(flat));
      this.pending.set(name, map);
    }
  }

  /** True if the variable has (or will have, once restored) this slot. */
  has(name: string, slot: string): boolean {
    return Boolean(this.tensors.get(name)?.has(slot) || this.pending.get(name)?.has(slot));
  }

  /** Disposes every tensor. */
  clear(): void {
    for (const slots of this.tensors.values()) for (const tensor of slots.values()) tensor.dispose();
    this.tensors.clear();
    this.pending.clear();
  }
}
