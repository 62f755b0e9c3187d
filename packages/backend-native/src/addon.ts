/**
 * Loads the optional native addon (`build/Release/sparse_native.node`, built by `npm run build:native`).
 * Never throws: when the addon is missing or broken, {@link loadNativeAddon} returns `null` and
 * {@link nativeAddonStatus} says why, so the `native` backend is simply unavailable.
 *
 * `SPARSE_LEARNING_NATIVE=0` (or `off`) disables it; `SPARSE_LEARNING_NATIVE=/path/to/sparse_native.node`
 * loads another build (e.g. the own-GEMM variant `build/own/sparse_native.node`). The addon picks its kernels'
 * ISA from cpuid when it loads (`SPARSE_LEARNING_NATIVE_ISA=avx2|generic` forces a lower one) and says which in
 * the reason (issue 10).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The functions exported by the C++ addon (`native/addon.cc`). Float32Array views are used zero-copy. */
export interface NativeAddon {
  /** Row-major C[M,N] = alpha op(A) op(B) + beta C; A is [M,K] ([K,M] when transA), B is [K,N] ([N,K] when transB). */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    b: Float32Array,
    beta: number,
    c: Float32Array,
  ): void;
  /** params: Int32Array [N,H,W,Ci, KH,KW,Co, OH,OW, sh,sw, dh,dw, padTop,padLeft]. */
  /**
   * With `bias` (Co entries), a build that can add it inside the convolution (lenet5-step: the direct
   * one-input-channel kernel) does and returns true; otherwise (or an older build) the caller adds it.
   */
  conv2d(x: Float32Array, filter: Float32Array, y: Float32Array, params: Int32Array, bias?: Float32Array): boolean | void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, params: Int32Array): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dfilter: Float32Array, params: Int32Array): void;
  /** params: Int32Array [N,H,W,C, KH,KW, OH,OW, sh,sw, padTop,padLeft]. */
  maxPool(x: Float32Array, y: Float32Array, params: Int32Array): void;
  maxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, params: Int32Array): void;
  /**
   * In place `out[r, c] += bias[c]` (bias of 1 or `channels` entries, or null), then activation 0 linear,
   * 1 relu, 2 relu6. Addon version >= 2 (older builds lack it; the kernels then use a JS loop).
   */
  biasActivation?(out: Float32Array, bias: Float32Array | null, channels: number, activation: 0 | 1 | 2): void;
  /** `out[c] = Σ_r x[r, c]` of a row-major `[rows, cols]` x, accumulated in double (addon version >= 3). */
  sumLeading?(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /**
   * One fused SGD step (addon version >= 3): `g = grad + wd·w; buf' = buf ? μ·buf + g : g;
   * upd = nesterov ? g + μ·buf' : buf'; w' = w − lr·upd` into `wOut`/`bufOut` (momentum 0: no buffer,
   * upd = g), each operation rounded to float32 in that order (no FMA), as the tfjs op chain.
   */
  sgdStep?(
    w: Float32Array,
    grad: Float32Array,
    buf: Float32Array | null,
    wOut: Float32Array,
    bufOut: Float32Array | null,
    learningRate: number,
    momentum: number,
    weightDecay: number,
    nesterov: boolean,
    /** Addon version >= 5 (an older build ignores it: check `reluBackward` first): `w' = (w − lr·upd) ⊙ mask`. */
    mask?: Float32Array | null,
  ): void;
  /** `out = dy · step(y)`, the ReLU gradient from the ReLU's output (addon version >= 5). */
  reluBackward?(dy: Float32Array, y: Float32Array, out: Float32Array): void;
  /**
   * Batch norm in training mode over the leading axes of a row-major `[rows, channels]` x (addon version >= 6):
   * `mean`, biased `variance`, `invStd = 1/√(var + eps)` per channel and `y = (x − mean)·γ·invStd + β`
   * (γ/β null: 1/0). Sums in double, rows split over the pool (docs/algorithm.md#models: PyTorch's BN).
   */
  batchNormTrain?(
    x: Float32Array,
    gamma: Float32Array | null,
    beta: Float32Array | null,
    channels: number,
    epsilon: number,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    invStd: Float32Array,
  ): void;
  /**
   * Its gradient (addon version >= 6): `dβ = Σdy`, `dγ = Σdy·x̂`, `dx = γ·invStd·(dy − dβ/rows − x̂·dγ/rows)`,
   * `x̂ = (x − mean)·invStd` (the terms through the batch mean and variance included).
   */
  batchNormTrainGrad?(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    invStd: Float32Array,
    gamma: Float32Array | null,
    channels: number,
    dx: Float32Array,
    dgamma: Float32Array | null,
    dbeta: Float32Array | null,
  ): void;
  /**
   * `out = a op b` element-wise (addon version >= 6), `kind` 0 add, 1 sub, 2 mul, 3 div; `a`/`b` have the
   * length of `out` or 1 (a broadcast scalar). One IEEE operation per element: bit-identical to tfjs's kernels.
   */
  binaryOp?(kind: 0 | 1 | 2 | 3, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /**
   * Element-wise, split over the pool (addon version >= 6): `kind` 0 relu `x > 0 ? x : 0`, 1 step
   * `x > 0 ? 1 : alpha`, 2 floor; NaN stays NaN (as tfjs's kernels).
   */
  unaryOp?(kind: 0 | 1 | 2, x: Float32Array, out: Float32Array, alpha?: number): void;
  /**
   * `out[i] = floor(u_i + keepProb) / keepProb` in float32, u_i the draws of seedrandom's Alea generator from
   * the state `(s0, s1, s2, c)` rounded to float32: tf.dropout's multiplier, bit for bit (core's
   * `DROPOUT_MASK_KERNEL`; builds from wrn-parity on — older ones lack it and the composite runs).
   */
  dropoutMask?(out: Float32Array, keepProb: number, s0: number, s1: number, s2: number, c: number): void;
  /**
   * The im2col chunk limits (addon version >= 6): at least `minRows` GEMM rows, at most `maxColFloats` column
   * floats per chunk (an image over the cap is split by output rows); 0 restores a default. For tests/experiments.
   */
  setConvChunking?(minRows: number, maxColFloats: number): void;
  /**
   * The direct (im2col-free) AVX-512 forward convolution (builds from wrn-parity on): `auto` (default: 3x3-type
   * windows on rows of 16+ output pixels with 16+ input channels), `off` (always im2col + GEMM) or `force`
   * (every shape it can run: tests). Returns the previous mode. `SL_CONV_DIRECT=off|force` sets it at load.
   */
  setDirectConv?(mode: 'auto' | 'off' | 'force'): 'auto' | 'off' | 'force';
  /** Resizes the addon's thread pool (and OpenBLAS's threads). */
  setThreads(threads: number): void;
  info(): NativeAddonInfo;
  /**
   * Switches the kernels' ISA variant (addon version >= 4); `false` when this CPU lacks it. Chosen from cpuid
   * at load (`SPARSE_LEARNING_NATIVE_ISA` lowers it); tests run every variant of {@link NativeAddonInfo.isas}.
   */
  setIsa?(isa: NativeIsa): boolean;
  /** `measure` (default): per GEMM shape, the faster of OpenBLAS and the own kernel, timed on first use. */
  setGemmPolicy?(policy: 'measure' | 'own' | 'openblas'): void;
  /** One line per GEMM shape decided under the `measure` policy, with both timings (addon version >= 4). */
  gemmChoices?(): string[];
  /**
   * Where the per-shape decisions are appended and read back by later processes (`''`: nowhere), so every
   * process on the machine runs a shape with the same implementation (bit-identical resumes). With
   * `onlyIfUnset`, `SPARSE_LEARNING_NATIVE_GEMM_CACHE` (a path, or `0`) wins; returns whether it applied.
   */
  setGemmRecord?(path: string, onlyIfUnset?: boolean): boolean;
  /** GFLOP/s of a register-only FMA loop of one ISA on `threads` threads for about `seconds` (0: ISA missing). */
  fmaPeak?(isa: NativeIsa, threads: number, seconds?: number): number;
}

/** ISA variants of the addon's kernels, lowest first. */
export type NativeIsa = 'generic' | 'avx2' | 'avx512';

/** `addon.info()`: what runs the kernels. Fields after `version` exist from addon version 4 on. */
export interface NativeAddonInfo {
  /** e.g. `own-avx512 | openblas SkylakeX (faster per shape, timed)`. */
  gemm: string;
  threads: number;
  version: number;
  /** The active ISA variant, and why (`avx512 (cpuid)`, or the override). */
  isa?: NativeIsa;
  isaReason?: string;
  /** Every variant this CPU can run, lowest first. */
  isas?: NativeIsa[];
  /** OpenBLAS as loaded at run time (never linked): its kernel set (`corename`) or why it is absent. */
  openblas?: { available: boolean; corename?: string; config?: string; path?: string; why?: string };
  gemmPolicy?: 'measure' | 'own' | 'openblas';
  /** The record file of the per-shape decisions (`''`: none). */
  gemmRecord?: string;
}

/** One-line description of a loaded addon for the backend reason (recorded in a run's config.json). */
export function describeAddon(info: NativeAddonInfo): string {
  const isa = info.isaReason ? `isa: ${info.isaReason}, ` : '';
  return `native addon loaded (${isa}gemm: ${info.gemm}, ${info.threads} threads)`;
}

/** Outcome of loading the addon. */
export interface NativeAddonStatus {
  readonly addon: NativeAddon | null;
  /** Absolute path tried (or `null` when disabled). */
  readonly path: string | null;
  /** Why it is unavailable, or a one-line description of the loaded build. */
  readonly reason: string;
}

let cached: NativeAddonStatus | null = null;

/** Directory of this package (works from `src/` under vitest/tsx and from `dist/` after tsup). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i += 1) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === '@sparse-learning/backend-native') {
          return dir;
        }
      } catch {
        // unreadable package.json: keep walking up
      }
    }
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}

/** Default location of the built addon. */
export function defaultAddonPath(): string {
  return join(packageRoot(), 'build', 'Release', 'sparse_native.node');
}

/** Loads an addon file without caching (used by tests to compare the OpenBLAS and own-GEMM builds). */
export function loadAddonFrom(path: string): NativeAddonStatus {
  if (!existsSync(path)) {
    return { addon: null, path, reason: `native addon not built (${path} missing; build it with: npx sparse-learning-build-native)` };
  }
  try {
    const require = createRequire(import.meta.url);
    const addon = require(path) as NativeAddon;
    // Per-shape GEMM decisions shared by every process using this build (next to it; a read-only directory
    // just means no record), unless SPARSE_LEARNING_NATIVE_GEMM_CACHE says otherwise.
    addon.setGemmRecord?.(join(dirname(path), 'gemm-choices.txt'), true);
    return { addon, path, reason: describeAddon(addon.info()) };
  } catch (error) {
    return { addon: null, path, reason: `native addon failed to load: ${(error as Error).message}` };
  }
}

/** The addon status, loaded once per process. */
export function nativeAddonStatus(): NativeAddonStatus {
  if (cached) return cached;
  const env = process.env.SPARSE_LEARNING_NATIVE;
  if (env !== undefined && ['0', 'off', 'false', 'no'].includes(env.toLowerCase())) {
    cached = { addon: null, path: null, reason: `native addon disabled by SPARSE_LEARNING_NATIVE=${env}` };
  } else {
    const path = env && env.length > 0 && !['1', 'on', 'true', 'yes'].includes(env.toLowerCase()) ? resolve(env) : defaultAddonPath();
    cached = adaptThreadsToLoad(loadAddonFrom(path));
  }
  return cached;
}

/**
 * On a machine already saturated when the addon loads (1-minute load average >= cores), one thread: every
 * parallel region (GEMM, im2col, pooling) waits for its slowest thread, and a descheduled thread costs more
 * than the second core gains (measured here at load average 8-9 on 2 cores: LeNet-5 step 36 ms with one
 * thread vs 51 ms with two). `SPARSE_LEARNING_NATIVE_THREADS` (any value) disables this; the pool can be
 * resized later with `addon.setThreads(n)`.
 */
export function adaptThreadsToLoad(
  status: NativeAddonStatus,
  cores = availableParallelism(),
  load = loadavg()[0],
  explicit = process.env.SPARSE_LEARNING_NATIVE_THREADS,
): NativeAddonStatus {
  if (!status.addon || explicit) return status;
  if (cores <= 1 || load < cores) return status;
  status.addon.setThreads(1);
  return {
    ...status,
    reason: `${status.reason.replace(/\d+ threads\)/, '1 thread)')}: load average ${load.toFixed(1)} >= ${cores} cores at start-up (SPARSE_LEARNING_NATIVE_THREADS overrides)`,
  };
}

/** The loaded addon, or `null` (see {@link nativeAddonStatus} for the reason). */
export function loadNativeAddon(): NativeAddon | null {
  return nativeAddonStatus().addon;
}
