/**
 * Backend registration and selection for the runner (`--backend`), per ARCHITECTURE.md "Backends and speed"
 * and issue 6: `auto` tries `@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`, then `native`, then `wasm`
 * with the training-gradient overrides, then `cpu`, and says why each earlier choice was skipped.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SparseLearningError } from '@sparse-learning/core';

import { nativeAddonStatus } from './addon.js';
import { NATIVE_BACKEND, registerNativeBackend } from './native-backend.js';
import { registerWasmCompositeKernels } from './wasm-composite-kernels.js';
import { registerWasmTrainingGradients, wasmTrainingGradientScope } from './wasm-training-gradients.js';
import { registerNativeTrainingGradients } from './native-training-gradients.js';

/** What the runner may ask for. `tensorflow-gpu` and `tensorflow` need libtensorflow (tfjs-node). */
export type BackendRequest = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'native' | 'wasm' | 'cpu';

/** Valid {@link BackendRequest} values, in `auto` order. */
export const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'];

/** What the model needs from the backend. */
export interface BackendNeeds {
  /** The model has convolutions (their gradients need the wasm overrides or a native/tfjs-node backend). */
  readonly conv?: boolean;
}

/** Result of {@link selectBackend}. */
export interface BackendChoice {
  /** The tfjs backend name now active (`tf.getBackend()`). */
  readonly backend: string;
  /** Why it was chosen and why each earlier candidate was skipped. */
  readonly reason: string;
}

/** Result of {@link registerFastBackends}. */
export interface FastBackends {
  /** Requests that can be tried, in `auto` order (`tensorflow*` only when the binding exists). */
  readonly available: string[];
  /** Per request: why it is unavailable, or what it is. */
  readonly reasons: Record<string, string>;
}

const TFJS_NODE: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/**
 * Finds tfjs-node's native binding without importing the package: importing it without
 * `lib/napi-v*\/tfjs_binding.node` fails after registering ~155 kernels (TOOLCHAIN.md).
 */
export function tfjsNodeBinding(pkg: string): { ok: boolean; reason: string } {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    return { ok: false, reason: `${pkg} is not installed` };
  }
  const lib = join(root, 'lib');
  const napi = existsSync(lib) ? readdirSync(lib).filter((d) => d.startsWith('napi-v')) : [];
  const binding = napi.map((d) => join(lib, d, 'tfjs_binding.node')).find((p) => existsSync(p));
  return binding
    ? { ok: true, reason: `${pkg} binding found (${binding})` }
    : { ok: false, reason: `${pkg} is installed without its native binding (no lib/napi-v*/tfjs_binding.node)` };
}

let registeredOnce: FastBackends | null = null;

/**
 * Registers the wasm training gradients and, when the addon is built, the `native` backend. Idempotent.
 * Never throws for a missing addon or tfjs-node: those are reported in `reasons`.
 */
export async function registerFastBackends(): Promise<FastBackends> {
  if (registeredOnce) return registeredOnce;
  const reasons: Record<string, string> = {};
  const available: string[] = [];
  for (const request of ['tensorflow-gpu', 'tensorflow'] as const) {
    const found = tfjsNodeBinding(TFJS_NODE[request]);
    reasons[request] = found.reason;
    if (found.ok) available.push(request);
  }
  registerWasmTrainingGradients({ backends: ['wasm'] });
  // Before the native backend is derived: it re-registers wasm's kernels, so it inherits these as fallbacks.
  registerWasmCompositeKernels({ backend: 'wasm' });
  const status = nativeAddonStatus();
  if (status.addon && registerNativeBackend()) {
    registerNativeTrainingGradients({ backends: [NATIVE_BACKEND] });
    available.push(NATIVE_BACKEND);
    reasons[NATIVE_BACKEND] = `${status.reason}; base wasm`;
  } else {
    reasons[NATIVE_BACKEND] = status.reason;
  }
  available.push('wasm', 'cpu');
  reasons.wasm = 'tfjs wasm backend (single thread) with matmul/conv2d training-gradient overrides and composite conv-gradient kernels';
  reasons.cpu = 'tfjs cpu backend (plain JS; slowest, CNN weight gradients take seconds)';
  registeredOnce = { available, reasons };
  return registeredOnce;
}

async function trySet(name: string): Promise<string | null> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    return `setBackend('${name}') threw: ${(error as Error).message}`;
  }
  if (!ok) return `setBackend('${name}') returned false (initialisation failed)`;
  const active = tf.getBackend();
  if (active !== name) return `setBackend('${name}') left '${active}' active`;
  return null;
}

async function tryRequest(request: Exclude<BackendRequest, 'auto'>, needs: BackendNeeds, fast: FastBackends): Promise<string | null> {
  switch (request) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      if (!fast.available.includes(request)) return fast.reasons[request];
      try {
        const specifier = TFJS_NODE[request];
        const mod = (await import(specifier)) as { default?: unknown };
        void (mod.default ?? mod);
      } catch (error) {
        return `${TFJS_NODE[request]} failed to load: ${(error as Error).message}`;
      }
      return trySet('tensorflow');
    }
    case 'native':
      if (!fast.available.includes(NATIVE_BACKEND)) return fast.reasons[NATIVE_BACKEND];
      return trySet(NATIVE_BACKEND);
    case 'wasm':
      if (needs.conv && (!wasmTrainingGradientScope().includes('wasm') || !tf.getKernel('Conv2DBackpropFilter', 'wasm'))) {
        return 'wasm has no Conv2DBackpropFilter kernel and the composite kernels / training-gradient overrides are not registered';
      }
      return trySet('wasm');
    case 'cpu':
      return trySet('cpu');
  }
}

/**
 * Activates a backend. `auto` walks tensorflow-gpu → tensorflow → native → wasm → cpu and returns the first
 * that initialises (checked with `tf.getBackend()`: wasm may silently leave cpu active).
 * @throws SparseLearningError `E_UNKNOWN_ID` for an unknown request, `E_BACKEND_UNAVAILABLE` when the
 *   requested backend (or, for `auto`, every backend) cannot be used.
 */
export async function selectBackend(request: BackendRequest, needs: BackendNeeds = {}): Promise<BackendChoice> {
  if (!BACKEND_REQUESTS.includes(request)) {
    throw new SparseLearningError('E_UNKNOWN_ID', `unknown backend '${String(request)}'; valid backends: ${BACKEND_REQUESTS.join(', ')}`, {
      kind: 'backend',
      id: request,
      valid: [...BACKEND_REQUESTS],
    });
  }
  const fast = await registerFastBackends();
  const candidates: Exclude<BackendRequest, 'auto'>[] =
    request === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'] : [request];
  const skipped: string[] = [];
  for (const candidate of candidates) {
    const why = await tryRequest(candidate, needs, fast);
    if (why === null) {
      const what = fast.reasons[candidate] ?? candidate;
      const reason = request === 'auto'
        ? `auto: chose ${candidate} (${what})${skipped.length ? `; skipped ${skipped.join('; ')}` : ''}`
        : `${candidate} as requested (${what})`;
      return { backend: tf.getBackend(), reason };
    }
    skipped.push(`${candidate}: ${why}`);
  }
  throw new SparseLearningError('E_BACKEND_UNAVAILABLE', `backend '${request}' is unavailable: ${skipped.join('; ')}`, {
    request,
    skipped,
  });
}
