import { describeRedistributionConformance } from '@sparse-learning/testing';
import { MagnitudeRedistribution } from './magnitude-redistribution.js';
import { MomentumRedistribution } from './momentum-redistribution.js';
import { NonzeroRedistribution } from './nonzero-redistribution.js';
import { SurvivingRedistribution } from './surviving-redistribution.js';
import { UniformRedistribution } from './uniform-redistribution.js';

describeRedistributionConformance('momentum', () => new MomentumRedistribution());
describeRedistributionConformance('magnitude', () => new MagnitudeRedistribution());
describeRedistributionConformance('uniform', () => new UniformRedistribution());
describeRedistributionConformance('nonzero', () => new NonzeroRedistribution());
describeRedistributionConformance('surviving', () => new SurvivingRedistribution());
