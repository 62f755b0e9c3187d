import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSparseLearningError } from '@sparse-learning/core';
import { describe, expect, it } from 'vitest';
import { writeFileAtomicSync, writeJsonAtomicSync } from './atomic-write.js';

describe('writeFileAtomicSync', () => {
  it('replaces the file and leaves no temporary file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-atomic-'));
    const path = join(dir, 'results.json');
    writeFileAtomicSync(path, 'old');
    writeJsonAtomicSync(path, { a: 1, nan: Number.NaN, arr: new Float32Array([0.5]) });
    // A parent directory that does not exist yet is created.
    writeFileAtomicSync(join(dir, 'sub', 'x.txt'), 'x');
    expect(readFileSync(join(dir, 'sub', 'x.txt'), 'utf8')).toBe('x');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ a: 1, nan: null, arr: [0.5] });
    expect(readdirSync(dir).sort()).toEqual(['results.json', 'sub']);
  });

  it('fails with E_WRITE_FAILED naming the path, and keeps what was there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-atomic-'));
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'keep me');
    try {
      writeFileAtomicSync(join(blocker, 'metrics.jsonl'), 'x');
      throw new Error('expected a failure');
    } catch (error) {
      expect((error as Error).message).toContain('E_WRITE_FAILED');
      expect(isSparseLearningError(error, 'E_WRITE_FAILED')).toBe(true);
      expect((error as Error).message).toContain('metrics.jsonl');
    }
    expect(readFileSync(blocker, 'utf8')).toBe('keep me');
  });
});
