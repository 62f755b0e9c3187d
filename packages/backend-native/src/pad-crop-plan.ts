/** Explicit NHWC padding, as tf.conv2d takes it. */
export type ExplicitPad4 = [[number, number], [number, number], [number, number], [number, number]];

/** How to turn signed per-side amounts (>= 0: pad, < 0: crop) into one slice and one explicit pad. */
export interface PadCropPlan {
  /** The slice that crops the negative sides, or null when nothing is cropped. */
  readonly crop: { readonly begin: number[]; readonly size: number[] } | null;
  readonly pad: ExplicitPad4;
}

/**
 * Plans padding (non-negative amounts) or cropping (negative amounts) of the two spatial axes of an NHWC
 * tensor. Shared by the gradient overrides (tf ops) and the composite wasm kernels (backend kernels), which
 * must express the same arithmetic through different APIs.
 */
export function planPadCrop(shape: readonly number[], top: number, bottom: number, left: number, right: number): PadCropPlan {
  const [n, h, w, c] = shape;
  let crop: PadCropPlan['crop'] = null;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const t0 = Math.max(0, -top);
    const l0 = Math.max(0, -left);
    const hEnd = h - Math.max(0, -bottom);
    const wEnd = w - Math.max(0, -right);
    crop = { begin: [0, t0, l0, 0], size: [n, hEnd - t0, wEnd - l0, c] };
  }
  return { crop, pad: [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]] };
}
