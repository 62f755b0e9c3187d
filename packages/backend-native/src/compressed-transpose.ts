/**
 * The second index of a compressed sparse layout: entries stored grouped by output (CSC for Dense layers, by
 * output channel for convolutions) are indexed again grouped by input (CSR / by input channel) through a
 * permutation, so the backward kernels can gather by input without a second copy of the values
 * (the compact layout of this package's README, "Truly sparse training"). A counting sort: O(nnz + inputs).
 */
export interface ByInputIndex {
  /** `ptr[i]..ptr[i+1]` are input `i`'s entries in the by-input order (length inputs + 1). */
  readonly ptr: Int32Array;
  /** The output of each entry, in the by-input order. */
  readonly output: Int32Array;
  /** The by-output position of each entry, in the by-input order. */
  readonly perm: Int32Array;
}

/**
 * Re-indexes entries stored by output (`outPtr` of length outputs + 1, `inputOf` the input of each entry) by
 * input. Within an input, entries keep the order of their outputs.
 */
export function indexByInput(outPtr: Int32Array, inputOf: Int32Array, outputs: number, inputs: number): ByInputIndex {
  const nnz = outPtr[outputs];
  const ptr = new Int32Array(inputs + 1);
  for (let k = 0; k < nnz; k++) ptr[inputOf[k] + 1]++;
  for (let i = 0; i < inputs; i++) ptr[i + 1] += ptr[i];
  const fill = ptr.slice(0, inputs);
  const output = new Int32Array(nnz);
  const perm = new Int32Array(nnz);
  for (let o = 0; o < outputs; o++) {
    for (let k = outPtr[o]; k < outPtr[o + 1]; k++) {
      const slot = fill[inputOf[k]]++;
      output[slot] = o;
      perm[slot] = k;
    }
  }
  return { ptr, output, perm };
}
