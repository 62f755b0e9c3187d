import { describePruneConformance } from '@sparse-learning/testing';
import { AdaptiveThresholdPrune } from './adaptive-threshold-prune.js';
import { GlobalMagnitudePrune } from './global-magnitude-prune.js';
import { MagnitudePrune } from './magnitude-prune.js';
import { SetPrune } from './set-prune.js';
import { SignFlipPrune } from './sign-flip-prune.js';

describePruneConformance('magnitude', () => new MagnitudePrune());
describePruneConformance('set', () => new SetPrune());
describePruneConformance('global-magnitude', () => new GlobalMagnitudePrune());
describePruneConformance('global-magnitude (exactThreshold)', () => new GlobalMagnitudePrune({ exactThreshold: true }));
describePruneConformance('sign-flip', () => new SignFlipPrune());
describePruneConformance('adaptive-threshold', () => new AdaptiveThresholdPrune());
