/**
 * PyTorch-style symmetric padding in TF.js (docs/algorithm.md#models).
 *
 * PyTorch pads `padding` pixels on *every* side. TF's `'same'` pads `max(0, (out−1)·s + k − in)` pixels in
 * total and puts the odd pixel on the bottom/right, which for stride 2 is asymmetric and shifts the sampling
 * grid (AlexNet's 11×11/2 pad-2 conv would give 16×16 instead of 13×13). So every padded conv is built as
 * `ZeroPadding2D(p)` + `'valid'` conv, except in the one case where `'same'` is provably identical:
 * stride 1 with an odd kernel and `p = (k−1)/2` (total padding k−1, split evenly), which saves a pad op.
 */

/** How a conv with PyTorch `padding` is realised in tfjs-layers. */
export interface PaddingPlan {
  /** Pixels of explicit zero padding on each side (`ZeroPadding2D`) before the conv; 0 = none. */
  readonly explicit: number;
  /** The tfjs conv padding mode. */
  readonly mode: 'valid' | 'same';
}

/** Chooses the tfjs realisation of a PyTorch conv padding (see the module comment). */
export function planPadding(kernelSize: number, stride: number, padding: number): PaddingPlan {
  if (padding === 0) return { explicit: 0, mode: 'valid' };
  if (stride === 1 && kernelSize % 2 === 1 && padding * 2 === kernelSize - 1) return { explicit: 0, mode: 'same' };
  return { explicit: padding, mode: 'valid' };
}

/** PyTorch's output size of a conv / pool along one axis: ⌊(in + 2p − k)/s⌋ + 1. */
export function convOutputSize(inSize: number, kernelSize: number, stride: number, padding: number): number {
  return Math.floor((inSize + 2 * padding - kernelSize) / stride) + 1;
}
