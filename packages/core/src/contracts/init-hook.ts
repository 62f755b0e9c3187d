import type { Logger } from '../logger.js';
import type { Rng } from '../rng.js';
import type { GrowthStrategy } from './growth-strategy.js';
import type { PruneStrategy } from './prune-strategy.js';
import type { RedistributionStrategy } from './redistribution-strategy.js';

/** One prunable tensor right after its initial mask was drawn and applied (copies: writing them changes nothing). */
export interface InitLayer {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  readonly weight: Float32Array;
  readonly mask: Uint8Array;
}

/** What an {@link InitHook} sees: the layers, the chosen strategies, a seeded stream of its own. */
export interface InitContext {
  readonly layers: readonly InitLayer[];
  readonly prune: PruneStrategy;
  readonly growth: GrowthStrategy;
  readonly redistribution: RedistributionStrategy;
  /** Forked from the run's seed for init hooks (`preset-init`), so a hook's draws are reproducible. */
  readonly rng: Rng;
  readonly logger: Logger;
}

/**
 * Runs once after the initial masks are drawn and applied, before the first step — e.g. DeepR fixes every
 * connection's sign at initialisation (Bellec et al. 2018, §2) and hands the signs to its prune strategy.
 * A hook configures strategies through their own public methods; it never touches the engine.
 */
export interface InitHook {
  readonly id: string;
  afterMaskInit(ctx: InitContext): void;
}
