import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '@sparse-learning/checkpoint';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { HOLD_MARKER } from '../run/run-directory.js';
import { cli, tmp, removeTmpDirs } from '../test/run-helpers.js';

afterAll(() => removeTmpDirs());

describe('stop signals (in-process: the handlers the CLI installs)', () => {
  afterEach(() => {
    delete process.env.SPARSE_LEARNING_HOLD_AT_STEP;
    vi.restoreAllMocks();
  });

  it('SIGTERM saves a checkpoint and returns 143; a second signal exits at once; handlers are removed afterwards', async () => {
    const out = join(tmp(), 'run');
    const exits: (number | undefined)[] = [];
    vi.spyOn(process, 'exit').mockImplementation(((code?: number) => void exits.push(code)) as never);
    const listeners = process.listenerCount('SIGTERM');
    process.env.SPARSE_LEARNING_HOLD_AT_STEP = '3';
    const running = cli('train', '--epochs', '2', '--max-batches', '4', '--backend', 'wasm', '--out', out);
    while (!existsSync(join(out, HOLD_MARKER))) await new Promise((r) => setTimeout(r, 10));
    expect(process.listenerCount('SIGTERM')).toBe(listeners + 1);
    process.emit('SIGTERM', 'SIGTERM');
    process.emit('SIGTERM', 'SIGTERM');
    const r = await running;
    expect(r.stderr).toContain('SIGTERM received: finishing the current step and saving a checkpoint (send SIGTERM again to exit immediately)');
    expect(r.stderr).toContain('SIGTERM received again: exiting immediately without saving; the last checkpoint is kept');
    expect(exits).toEqual([143]);
    // (process.exit is stubbed here, so the first signal's checkpoint still completes)
    expect(r.stdout).toContain('stopped by SIGTERM at epoch 1/2, batch 3, step 3');
    expect(r.code).toBe(143);
    expect((await loadCheckpoint(out)).step).toBe(3);
    expect(process.listenerCount('SIGTERM')).toBe(listeners);
  });
});
