import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

/**
 * TEST SUPPORT ONLY (not exported by the package): a faster `Conv2DBackpropFilter` kernel for the tfjs `cpu`
 * backend.
 *
 * Why: the stock cpu kernel reads every element through `TensorBuffer.get(...)` in a 7-deep loop and runs at
 * ~7 M multiply-adds/s here (TOOLCHAIN.md: a LeNet-5 step at batch 64 takes ~30 s), which makes a single
 * training step of AlexNet or VGG on the cpu backend take tens of seconds. This version computes exactly the
 * same sums (NHWC, any stride/padding tfjs accepts) over flat typed arrays with a contiguous inner loop over
 * output channels, ~50–100× faster. It is verified against the stock kernel in `fast-cpu-conv-filter-grad.test.ts`.
 * Results differ from the stock kernel only by float32 summation order (it accumulates in float32).
 */
function conv2DBackpropFilterFast(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: unknown;
  attrs: Record<string, unknown>;
}): TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as {
    data: { get(id: unknown): { values: Float32Array } };
    makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
  };
  const { x, dy } = inputs;
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') throw new Error('fast Conv2DBackpropFilter supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const xv = backend.data.get(x.dataId).values;
  const dyv = backend.data.get(dy.dataId).values;
  const dW = new Float32Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let yR = 0; yR < outHeight; yR++) {
      for (let yC = 0; yC < outWidth; yC++) {
        const dyOff = ((b * outHeight + yR) * outWidth + yC) * outChannels;
        for (let wR = 0; wR < filterHeight; wR++) {
          const xR = yR * strideHeight + wR - top;
          if (xR < 0 || xR >= inHeight) continue;
          for (let wC = 0; wC < filterWidth; wC++) {
            const xC = yC * strideWidth + wC - left;
            if (xC < 0 || xC >= inWidth) continue;
            const xOff = ((b * inHeight + xR) * inWidth + xC) * inChannels;
            const wOff = (wR * filterWidth + wC) * inChannels * outChannels;
            for (let d1 = 0; d1 < inChannels; d1++) {
              const xval = xv[xOff + d1];
              if (xval === 0) continue;
              const o = wOff + d1 * outChannels;
              for (let d2 = 0; d2 < outChannels; d2++) dW[o + d2] += xval * dyv[dyOff + d2];
            }
          }
        }
      }
    }
  }
  return backend.makeTensorInfo([filterHeight, filterWidth, inChannels, outChannels], 'float32', dW);
}

let original: KernelConfig | undefined;

/** Replaces the cpu `Conv2DBackpropFilter` kernel with the fast one (process-wide; vitest forks per file). */
export function useFastCpuConvFilterGrad(): void {
  if (original !== undefined) return;
  const stock = tf.getKernel('Conv2DBackpropFilter', 'cpu');
  if (stock === undefined) throw new Error('the cpu backend is not registered');
  original = stock;
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'cpu',
    kernelFunc: conv2DBackpropFilterFast as unknown as KernelFunc,
  });
}

/** Restores the stock kernel. */
export function useStockCpuConvFilterGrad(): void {
  if (original === undefined) return;
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel(original);
  original = undefined;
}
