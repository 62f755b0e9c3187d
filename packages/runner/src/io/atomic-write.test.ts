import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSparseLearningError } from '@sparse-learning/core';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic, writeJsonAtomic } from './atomic-write.js';

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temporary file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-atomic-'));
    const path = join(dir, 'results.json');
    writeFileAtomic(path, 'old');
    writeJsonAtomic(path, { a: 1, nan: Number.NaN, arr: new Float32Array([0.5]) });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ a: 1, nan: null, arr: [0.5] });
    expect(readdirSync(dir)).toEqual(['results.json']);
  });

  it('fails with E_WRITE_FAILED naming the path, and keeps what was there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-atomic-'));
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'keep me');
    try {
      writeFileAtomic(join(blocker, 'metrics.jsonl'), 'x');
      throw new Error("expected a failure");
    } catch (error) {
      expect((error as Error).message).toContain("E_WRITE_FAILED");
      expect(isSparseLearningError(error, "E_WRITE_FAILED")).toBe(true);
      expect((error as Error).message).toContain('metrics.jsonl');
    }
    expect(readFileSync(blocker, 'utf8')).toBe('keep me');
  });
});
