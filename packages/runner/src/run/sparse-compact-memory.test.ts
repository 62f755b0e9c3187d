import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNativeAddon, sparseAddonOf } from '@sparse-learning/backend-native';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, removeTmpDirs, tmp } from '../test/run-helpers.js';

// Issue 9: memory follows the active weights, not the dense shape. er-mlp-20000 (784-20000-20000-10) needs
// 1.5 GiB in dense float32 form (fc2 alone 4·10⁸ weights); trained from the CLI in sparse execution at SET's
// ε = 20 it must never allocate an array of fc2's dense size — not its float32 kernel, not even a one-byte
// mask — nor hold dense tensors: a spy on the typed-array and ArrayBuffer constructors (everything JS and
// TF.js's cpu/wasm backends allocate goes through them) records the largest allocation of the whole run,
// initial draw, training steps, the compact SET update, evaluation, checkpoints and export included.
const built = sparseAddonOf(loadNativeAddon()) !== null;
const FC2 = 20_000 * 20_000;

const CTORS = ['Float32Array', 'Float64Array', 'Int32Array', 'Uint32Array', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'ArrayBuffer', 'SharedArrayBuffer'] as const;

/** Replaces the constructors with proxies that record the largest element count and byte size asked for. */
function spyOnAllocations(): { largest: { elements: number; bytes: number; what: string }; restore(): void } {
  const largest = { elements: 0, bytes: 0, what: '' };
  const g = globalThis as unknown as Record<string, unknown>;
  const originals = new Map(CTORS.map((name) => [name, g[name]]));
  for (const name of CTORS) {
    const Original = originals.get(name) as new (...args: unknown[]) => unknown;
    g[name] = new Proxy(Original, {
      construct(target, args, newTarget) {
        const made = Reflect.construct(target, args, newTarget === g[name] ? target : newTarget) as ArrayBufferView | ArrayBuffer;
        const bytes = made.byteLength;
        const elements = 'BYTES_PER_ELEMENT' in made ? bytes / (made as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : bytes;
        if (elements > largest.elements) Object.assign(largest, { elements, bytes, what: `${name}(${elements})` });
        return made;
      },
    });
  }
  return { largest, restore: () => originals.forEach((ctor, name) => (g[name] = ctor)) };
}

describe.skipIf(!built)('compact sparse session: no tensor of the dense shape', () => {
  afterAll(() => removeTmpDirs());

  it('er-mlp-20000 at ε = 20 (dense form 1.5 GiB): draw, train, compact SET update, evaluate, checkpoint, export — largest allocation far below fc2', async () => {
    const out = join(tmp('sl-compact-mem-'), 'run');
    const spy = spyOnAllocations();
    let r: Awaited<ReturnType<typeof cli>>;
    let exported: Awaited<ReturnType<typeof cli>>;
    try {
      r = await cli('train', '--model', 'er-mlp-20000', '--preset', 'set', '--epsilon', '20', '--execution', 'sparse', '--epochs', '2', '--max-batches', '2', '--max-eval-batches', '1', '--backend', 'native', '--out', out);
      exported = await cli('export', out);
    } finally {
      spy.restore();
    }
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/execution: sparse — requested \(compact state: model 'er-mlp-20000' needs 1\.5 GiB in dense float32 form/);
    expect(exported.code).toBe(0);
    // The header shows the ε-derived density to 4 significant digits (config.json keeps the exact value).
    const shown = /· density (0\.\d+) · seed/.exec(r.stdout)?.[1] ?? '';
    expect(shown.replace(/^0\.0*/, '').length, shown).toBeGreaterThan(0);
    expect(shown.replace(/^0\.0*/, '').length, shown).toBeLessThanOrEqual(4);
    // The largest arrays are the dataset's (MNIST train images, 60 000 × 784 floats = 4.7·10⁷) and the
    // compact layers; a dense view of fc2 would be 4·10⁸ elements.
    expect(spy.largest.elements, spy.largest.what).toBeLessThan(FC2 / 8);
    // The spy saw the run's arrays: at least fc2's compact values (800 000 floats).
    expect(spy.largest.elements).toBeGreaterThanOrEqual(800_000);
    expect(tf.memory().numBytes).toBeLessThan(2 ** 28);
    // ε = 20: fc1 gets 20·(784 + 20 000), fc2 20·40 000 connections; fc3 (20 000 → 10) is dense.
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { layers: { name: string; active: number }[]; maskUpdates: number });
    expect(metrics[0].layers.map((l) => l.active)).toEqual([415_680, 800_000, 200_000]);
    expect(metrics[1].layers.map((l) => l.active)).toEqual([415_680, 800_000, 200_000]);
  }, 300_000);
});
