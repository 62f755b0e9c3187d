import { createRng } from '@sparse-learning/core';
import { readSparseTensors, exportSparseTensors, type LoadedCheckpoint } from '@sparse-learning/checkpoint';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CompactStateRecord } from './checkpointing.js';
import { compactExportTensors } from './sparse-compact-checkpoint.js';
import { cscFromPositions, drawPositions } from './sparse-compact-init.js';

// Issue 9: a compact checkpoint's layer of more than 2³² positions exports with 64-bit positions, straight from
// the compact arrays (no dense array of the layer), and reads back at the very positions that were drawn.

/** A `compact-mlp` checkpoint of one layer [in, out] holding `positions` (ascending), values from their order. */
function checkpointOf(inF: number, outF: number, positions: Float64Array): { checkpoint: LoadedCheckpoint; record: CompactStateRecord; values: Float32Array } {
  const { colptr, rowidx } = cscFromPositions(inF, outF, positions);
  // Value of position p: a function of p, so the export's order (by input) can be checked against the CSC's.
  const value = (p: number) => Math.fround((p % 1013) / 1013 - 0.5);
  const vals = new Float32Array(rowidx.length);
  for (let o = 0; o < outF; o++) for (let k = colptr[o]; k < colptr[o + 1]; k++) vals[k] = value(rowidx[k] * outF + o);
  const variables = {
    'fc2.weight#colptr': { shape: [colptr.length], dtype: 'int32' as const, values: colptr },
    'fc2.weight#rowidx': { shape: [rowidx.length], dtype: 'int32' as const, values: rowidx },
    'fc2.weight#values': { shape: [vals.length], dtype: 'float32' as const, values: vals },
    'fc2.bias': { shape: [outF], dtype: 'float32' as const, values: new Float32Array(outF).fill(0.5) },
  };
  const checkpoint = { path: 'synthetic', epoch: 1, step: 3, tensors: { variables, masks: {}, optimizer: null } } as unknown as LoadedCheckpoint;
  const record: CompactStateRecord = { format: 'compact-mlp', version: 1, layers: [{ weightName: 'fc2.weight', biasName: 'fc2.bias', in: inF, out: outF, relu: true }] };
  return { checkpoint, record, values: Float32Array.from(positions, value) };
}

describe('compact export of a layer beyond 2³² positions', () => {
  it('er-mlp-100000-sized layer: 64-bit positions, exactly the drawn ones, values in position order', async () => {
    const [inF, outF] = [100_000, 100_000];
    const positions = drawPositions(inF * outF, 200_000, createRng('wide-export'));
    expect(positions[positions.length - 1]).toBeGreaterThan(2 ** 32);
    const { checkpoint, record, values } = checkpointOf(inF, outF, positions);
    const tensors = compactExportTensors(checkpoint, record);
    const weight = tensors[0] as Extract<(typeof tensors)[number], { indices: unknown }>;
    expect(weight.indices).toBeInstanceOf(Float64Array);
    expect(Buffer.compare(Buffer.from(weight.indices.buffer), Buffer.from(positions.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(weight.values.buffer), Buffer.from(values.buffer))).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'sl-wide-export-'));
    try {
      const path = join(dir, 'model.slsparse');
      const written = await exportSparseTensors(path, tensors, { modelId: 'er-mlp-100000', density: 2e-5 });
      expect(written.header.tensors[0]).toMatchObject({ name: 'fc2.weight', encoding: 'sparse', indexBits: 64, nnz: 200_000 });
      const read = await readSparseTensors(path);
      const back = read.tensors[0] as typeof weight;
      expect(Buffer.compare(Buffer.from(back.indices.buffer), Buffer.from(positions.buffer))).toBe(0);
      expect(Buffer.compare(Buffer.from(back.values.buffer), Buffer.from(values.buffer))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a layer within 2³² keeps Uint32Array positions (the files of before)', () => {
    const positions = drawPositions(300 * 100, 1_500, createRng('narrow-export'));
    const { checkpoint, record } = checkpointOf(300, 100, positions);
    const weight = compactExportTensors(checkpoint, record)[0] as { indices: Uint32Array | Float64Array };
    expect(weight.indices).toBeInstanceOf(Uint32Array);
    expect([...weight.indices]).toEqual([...positions]);
  });
});
