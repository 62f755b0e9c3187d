import { describe, expect, it } from 'vitest';
import type { EpochMetrics } from '../run/metrics.js';
import { ProgressRenderer, epochLine, formatDuration } from './progress.js';

const metrics = { epoch: 2, trainLoss: 0.1234, validationAccuracy: 0.98, testAccuracy: 0.9712, learningRate: 0.1, pruneRate: 0.25, density: 0.05, maskUpdates: 1, epochSeconds: 3.2 } as EpochMetrics;

describe('progress rendering', () => {
  it('formats durations and epoch lines', () => {
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(200)).toBe('3m20s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(epochLine(metrics, 10)).toBe('epoch 2/10  loss 0.1234  val 98.00%  test 97.12%  lr 0.100  prune 0.2500  density 0.0500  updates 1  3.2s');
  });

  it('draws a bar with ETA on a terminal and only plain lines otherwise', () => {
    let now = 0;
    const tty: string[] = [];
    const bar = new ProgressRenderer({ write: (s: string) => tty.push(s), isTTY: true, columns: 200 }, { now: () => now });
    bar.start(100);
    now = 10_000; // 10 s for 25 steps → 30 s for the remaining 75
    bar.step(25, 1, 4, 0.5);
    expect(tty.join('')).toContain('25%  step 25/100  epoch 1/4  loss 0.5000  ETA 30s');
    bar.line('epoch 1/4 ...');
    expect(tty.join('')).toContain('\r\x1b[2Kepoch 1/4 ...\n');
    const plain: string[] = [];
    const log = new ProgressRenderer({ write: (s: string) => plain.push(s), isTTY: false });
    log.start(100);
    log.step(25, 1, 4, 0.5);
    log.line('epoch 1/4 ...');
    expect(plain).toEqual(['epoch 1/4 ...\n']);
  });
});
