import type { Rng } from '@sparse-learning/core';
import { SparseLearningError } from '@sparse-learning/core';

/**
 * The CIFAR-10 training augmentation of the official code (docs/algorithm.md#recipes): reflect-pad `padding` pixels on each
 * side, take a random `H x W` crop of the padded image, then flip it horizontally with probability 1/2.
 *
 * Random draws per image, in this order (torchvision's order: `RandomCrop.get_params` draws the top row
 * `i`, then the left column `j`; `RandomHorizontalFlip` then draws `rand < 0.5`):
 * `top = rng.int(2·padding + 1)`, `left = rng.int(2·padding + 1)`, `flip = rng.next() < 0.5`.
 * Our `Rng` is not torch's generator, so the numbers differ from a PyTorch run; the distribution is the same.
 *
 * The official pipeline converts the padded float tensor back to a PIL image (`mul(255).byte()`, which
 * truncates). For every byte k, `trunc(fround(fround(k / 255) * 255)) === k`, so that round trip is the
 * identity and we work on the bytes directly.
 */
export interface CropFlipAugmentation {
  /** Reflect padding on every side, in pixels (4 for CIFAR-10). Must be smaller than height and width. */
  readonly padding: number;
  /** Random horizontal flip with probability 1/2. */
  readonly flip: boolean;
}

/** The CIFAR-10 training augmentation: reflect-pad 4, random 32x32 crop, random horizontal flip. */
export const CIFAR10_AUGMENTATION: CropFlipAugmentation = Object.freeze({ padding: 4, flip: true });

/** One image's random parameters (exposed for tests and for logging what augmentation did). */
export interface CropFlipParams {
  /** Row of the crop's top-left corner in the padded image, in `[0, 2·padding]`. */
  readonly top: number;
  /** Column of the crop's top-left corner in the padded image, in `[0, 2·padding]`. */
  readonly left: number;
  readonly flip: boolean;
}

/** Draws one image's crop offsets and flip, in the documented order. */
export function drawCropFlip(aug: CropFlipAugmentation, rng: Rng): CropFlipParams {
  const top = rng.int(2 * aug.padding + 1);
  const left = rng.int(2 * aug.padding + 1);
  const flip = aug.flip ? rng.next() < 0.5 : false;
  return { top, left, flip };
}

/**
 * Index of the source pixel for padded coordinate `p` (PyTorch `F.pad(mode='reflect')`, numpy 'reflect':
 * the edge pixel is not repeated, so with padding 2 a row `a b c d` becomes `c b a b c d c b`).
 */
export function reflectIndex(p: number, size: number): number {
  if (p < 0) return -p;
  if (p >= size) return 2 * (size - 1) - p;
  return p;
}

/** Checks that reflect padding is possible (PyTorch requires padding < dimension). */
export function checkAugmentation(aug: CropFlipAugmentation, height: number, width: number): void {
  if (!Number.isInteger(aug.padding) || aug.padding < 0 || aug.padding >= height || aug.padding >= width) {
    throw new SparseLearningError(
      'E_CONFIG_INVALID',
      `augmentation padding = ${aug.padding} is invalid for ${height}x${width} images; expected an integer ` +
        `0 <= padding < min(height, width) (reflect padding cannot exceed the image)`,
      { padding: aug.padding, height, width },
    );
  }
}

/**
 * Writes one augmented, normalised image (HWC) into `out` at `outOffset`: `out[y][x] = padded[top + y][left + x']`
 * with `x' = flip ? W - 1 - x : x` (the flip is applied to the crop), `padded` being the reflect-padded input.
 */
export function writeCropFlip(
  image: Uint8Array,
  imageOffset: number,
  height: number,
  width: number,
  channels: number,
  padding: number,
  params: CropFlipParams,
  table: Float32Array,
  out: Float32Array,
  outOffset: number,
): void {
  let o = outOffset;
  for (let y = 0; y < height; y++) {
    const sy = reflectIndex(params.top + y - padding, height);
    const rowBase = imageOffset + sy * width * channels;
    for (let x = 0; x < width; x++) {
      const px = params.flip ? width - 1 - x : x;
      const sx = reflectIndex(params.left + px - padding, width);
      const at = rowBase + sx * channels;
      for (let c = 0; c < channels; c++) out[o++] = table[c * 256 + image[at + c]];
    }
  }
}
