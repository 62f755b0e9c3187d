import { SparseLearningError } from '@sparse-learning/core';
import { describe, expect, it } from 'vitest';
import { outOfMemoryError } from './run-failure.js';

/** What tfjs' wasm module throws when a step outgrows its 4 GiB heap (seen with WRN-16-8 at batch 128). */
function wasmAbort(): Error {
  const error = new Error('Aborted(). Build with -sASSERTIONS for more info.');
  error.name = 'RuntimeError';
  return error;
}

describe('outOfMemoryError', () => {
  const config = { model: 'wrn-16-8', batchSize: 128 };

  it('turns a wasm abort into E_OUT_OF_MEMORY naming the model, the batch size and what to change', () => {
    const coded = outOfMemoryError(wasmAbort(), config);
    expect(coded).toBeInstanceOf(SparseLearningError);
    expect(coded!.code).toBe('E_OUT_OF_MEMORY');
    expect(coded!.message).toMatch(/training wrn-16-8 at --batch-size 128 ran out of memory \(RuntimeError: Aborted\(\)/);
    expect(coded!.message).toMatch(/use a smaller --batch-size/);
    expect(coded!.details).toEqual({ model: 'wrn-16-8', batchSize: 128 });
    expect(coded!.cause).toBeInstanceOf(Error);
    // A WRN in masked execution is pointed at the sparse one (its convs keep their activations outside the heap).
    expect(coded!.message).toMatch(/a WideResNet also fits at this batch size with --execution sparse/);
    expect(outOfMemoryError(wasmAbort(), { ...config, execution: 'sparse' })!.message).not.toMatch(/--execution sparse/);
    expect(outOfMemoryError(wasmAbort(), { model: 'vgg-d', batchSize: 128 })!.message).not.toMatch(/--execution sparse/);
  });

  it('recognises heap growth and allocation failures', () => {
    expect(outOfMemoryError(new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded'), config)?.code).toBe('E_OUT_OF_MEMORY');
    expect(outOfMemoryError(new RangeError('Array buffer allocation failed'), config)?.code).toBe('E_OUT_OF_MEMORY');
  });

  it('leaves every other error alone', () => {
    expect(outOfMemoryError(new TypeError('x is not a function'), config)).toBeNull();
    expect(outOfMemoryError(new Error('Aborted by the user'), config)).toBeNull();
    expect(outOfMemoryError('a string', config)).toBeNull();
  });
});
