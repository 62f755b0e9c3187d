import 'reflect-metadata';
import { Container } from 'inversify';
import { MaskUpdater, TOKENS } from '@sparse-learning/core';
import type { GrowthStrategy, PruneStrategy, RedistributionStrategy } from '@sparse-learning/core';
import { growthModule } from '@sparse-learning/growth';
import { pruneModule } from '@sparse-learning/prune';
import { redistributionModule } from '@sparse-learning/redistribution';
import { MOMENTUM_GRADIENT_GROWTH_ID, MomentumGradientGrowth } from './momentum-gradient-growth.js';

/** Which plugin fills each slot of the engine (ids as registered in the container). */
export interface EngineChoice {
  readonly prune: string;
  readonly redistribution: string;
  readonly growth: string;
}

/**
 * The composition root of this example: loads the three built-in plugin modules, registers the custom growth
 * strategy next to them under its id, and binds `TOKENS.MaskUpdater` to an engine assembled from the chosen ids.
 */
export function createEngineContainer(choice: EngineChoice): Container {
  const container = new Container();
  container.loadSync(pruneModule, redistributionModule, growthModule);
  container.bind(TOKENS.GrowthStrategy).to(MomentumGradientGrowth).whenNamed(MOMENTUM_GRADIENT_GROWTH_ID);
  container.bind(TOKENS.MaskUpdater).toDynamicValue(
    (ctx) =>
      new MaskUpdater(
        ctx.get<PruneStrategy>(TOKENS.PruneStrategy, { name: choice.prune }),
        ctx.get<RedistributionStrategy>(TOKENS.RedistributionStrategy, { name: choice.redistribution }),
        ctx.get<GrowthStrategy>(TOKENS.GrowthStrategy, { name: choice.growth }),
      ),
  );
  return container;
}
