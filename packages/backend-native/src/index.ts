/**
 * @sparse-learning/backend-native — fast CPU training for TensorFlow.js 4.22 without libtensorflow (issue 6):
 * a wasm matmul-gradient override and composite conv/matmul kernels (always available) and a `native` backend whose GEMM, convolution,
 * max-pool, bias-gradient sum and fused SGD-step kernels run in an optional Node addon (the project's own AVX-512 /
 * AVX2 / portable kernels chosen from cpuid at load, or OpenBLAS where it times faster per GEMM shape), with
 * deferred outputs so gradients tfjs computes but never reads are skipped.
 */
export {
  registerWasmTrainingGradients,
  unregisterWasmTrainingGradients,
  wasmTrainingGradientsRegistered,
  wasmTrainingGradientScope,
} from './wasm-training-gradients.js';
export type { WasmTrainingGradientOptions } from './wasm-training-gradients.js';
export {
  registerNativeTrainingGradients,
  unregisterNativeTrainingGradients,
  nativeTrainingGradientsRegistered,
} from './native-training-gradients.js';
export {
  registerWasmCompositeKernels,
  unregisterWasmCompositeKernels,
  wasmCompositeKernels,
  conv2dBackpropFilterComposite,
  conv2dBackpropInputComposite,
  batchMatMulComposite,
} from './wasm-composite-kernels.js';
export type { WasmCompositeKernelOptions } from './wasm-composite-kernels.js';
export { loadNativeAddon, nativeAddonStatus, loadAddonFrom, defaultAddonPath, packageRoot, adaptThreadsToLoad, describeAddon } from './addon.js';
export type { NativeAddon, NativeAddonInfo, NativeAddonStatus, NativeIsa } from './addon.js';
export {
  NATIVE_BACKEND,
  registerNativeBackend,
  registeredNativeBackends,
  nativeTensorAccess,
  wasmStore,
  cpuStore,
} from './native-backend.js';
export type { NativeBackendOptions, NativeBase, NativeTensorAccess } from './native-backend.js';
export {
  DENSE_GRAD_KERNEL_NAME,
  DENSE_KERNEL_NAME,
  LOSS_GRAD_KERNEL_NAME,
  LOSS_KERNEL_NAME,
  NATIVE_KERNELS,
  RELU_GRAD_KERNEL_NAME,
  SGD_STEP_KERNEL_NAME,
  SGD_STEP_MASKED_KERNEL_NAME,
  makeNativeKernel,
} from './native-kernels.js';
export { LazyOutputs } from './lazy-outputs.js';
export type { TensorStore } from './tensor-store.js';
export { BACKEND_REQUESTS, registerFastBackends, selectBackend, tfjsNodeBinding } from './select-backend.js';
export type { BackendChoice, BackendNeeds, BackendRequest, FastBackends } from './select-backend.js';
export * from './sparse-layout.js';
export * from './sparse-trainer-core.js';
export * from './sparse-mlp-trainer.js';
export * from './sparse-conv-layout.js';
export * from './sparse-cnn-step.js';
export * from './sparse-conv-edit.js';
export * from './sparse-cnn-trainer.js';
export * from './sparse-conv-op.js';
export * from './sparse-graph-trainer.js';
