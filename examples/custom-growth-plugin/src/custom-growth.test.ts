import { describe, expect, it } from 'vitest';
import { INITIAL_CONTROLLER_STATE, MaskUpdater, createRng, isSparseLearningError } from '@sparse-learning/core';
import { describeGrowthConformance } from '@sparse-learning/testing';
import { createEngineContainer } from './compose.js';
import { MomentumGradientGrowth } from './momentum-gradient-growth.js';

// One line: the same contract checks every built-in growth strategy passes.
describeGrowthConformance('momentum-gradient (example)', () => new MomentumGradientGrowth());

describe('a mask update with the custom growth, composed through the container', () => {
  const rng = createRng('example');
  const layer = (name: string, shape: number[], density: number) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const mask = Uint8Array.from({ length: size }, () => (rng.next() < density ? 1 : 0));
    const weight = Float32Array.from(mask, (m) => (m ? rng.normal() * 0.1 : 0));
    const momentum = Float32Array.from({ length: size }, () => rng.normal() * 0.01);
    const gradient = Float32Array.from({ length: size }, () => rng.normal() * 10);
    return { name, shape, weight, mask, momentum, gradient };
  };
  const layers = [layer('fc1', [20, 30], 0.2), layer('fc2', [30, 10], 0.3)];
  const baselineNonzero = layers.reduce((acc, l) => acc + l.mask.reduce((a, b) => a + b, 0), 0);

  it('resolves a MaskUpdater with magnitude prune, momentum redistribution and the custom growth', () => {
    const container = createEngineContainer({ prune: { id: 'magnitude' }, redistribution: { id: 'momentum' }, growth: { id: 'momentum-gradient' } });
    const updater = container.get(MaskUpdater);
    expect(updater.growth.id).toBe('momentum-gradient');
    expect([...updater.requires].sort()).toEqual(['gradient', 'momentum']);

    const result = updater.update({ layers, pruneRate: 0.5, baselineNonzero, controller: INITIAL_CONTROLLER_STATE, step: 10, epoch: 1, rng: createRng(1) });
    for (const [i, r] of result.layers.entries()) {
      // Exactly the requested count was grown, only at positions that were zero after pruning.
      expect(r.grown).toBe(r.regrow);
      expect(r.activeAfter).toBe(r.activeBefore - r.removed + r.grown);
      // The grown positions are the top-scored zero positions: every grown score ≥ every skipped zero's score.
      const { momentum, gradient, mask } = layers[i];
      const score = (j: number) => Math.fround(Math.abs(momentum[j]) * (1 + 1 * Math.abs(gradient[j])));
      const pruned = new Set(r.prunedIndices);
      const grown = new Set(r.grownIndices);
      let minGrown = Infinity;
      let maxSkipped = -Infinity;
      for (let j = 0; j < mask.length; j++) {
        const zeroAfterPrune = mask[j] === 0 || pruned.has(j);
        if (!zeroAfterPrune) continue;
        if (grown.has(j)) minGrown = Math.min(minGrown, score(j));
        else maxSkipped = Math.max(maxSkipped, score(j));
      }
      expect(minGrown).toBeGreaterThanOrEqual(maxSkipped);
    }
    expect(result.totalNonzero).toBeGreaterThan(0.95 * baselineNonzero);
  });

  it('chooses differently from plain momentum growth when gradients disagree with momentum', () => {
    const run = (growth: string, options?: Record<string, unknown>) =>
      createEngineContainer({ prune: { id: 'magnitude' }, redistribution: { id: 'momentum' }, growth: { id: growth, options } })
        .get(MaskUpdater)
        .update({ layers, pruneRate: 0.5, baselineNonzero, controller: INITIAL_CONTROLLER_STATE, step: 10, epoch: 1, rng: createRng(1) });
    const custom = run('momentum-gradient');
    const plain = run('momentum');
    expect(custom.layers.map((l) => l.regrow)).toEqual(plain.layers.map((l) => l.regrow));
    expect(custom.layers[0].grownIndices).not.toEqual(plain.layers[0].grownIndices);
    // gradientWeight 0 turns the score into |m|: the same choice as plain momentum growth.
    expect(run('momentum-gradient', { gradientWeight: 0 }).layers[0].grownIndices).toEqual(plain.layers[0].grownIndices);
  });

  it('its options are validated by its schema, with a coded error naming the plugin and the option', () => {
    try {
      createEngineContainer({ prune: { id: 'magnitude' }, redistribution: { id: 'momentum' }, growth: { id: 'momentum-gradient', options: { gradientWeight: -1 } } });
      throw new Error('expected an error');
    } catch (error) {
      expect(isSparseLearningError(error, 'E_OUT_OF_RANGE')).toBe(true);
      expect(String(error)).toContain("growth strategy 'momentum-gradient' option 'gradientWeight' = -1 is out of range; expected a number >= 0");
    }
  });
});
