import { describeGrowthConformance } from '@sparse-learning/testing';
import { GradientGrowth } from './gradient-growth.js';
import { MomentumGrowth } from './momentum-growth.js';
import { RandomGrowth } from './random-growth.js';

describeGrowthConformance('momentum', () => new MomentumGrowth());
describeGrowthConformance('momentum (legacyTopK)', () => new MomentumGrowth({ legacyTopK: true }));
describeGrowthConformance('random', () => new RandomGrowth());
describeGrowthConformance('random (exactCount)', () => new RandomGrowth({ exactCount: true }));
describeGrowthConformance('random (excludeJustPruned)', () => new RandomGrowth({ excludeJustPruned: true }));
describeGrowthConformance('random (exactCount, excludeJustPruned)', () => new RandomGrowth({ exactCount: true, excludeJustPruned: true }));
describeGrowthConformance('gradient', () => new GradientGrowth());
