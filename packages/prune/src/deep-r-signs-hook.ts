import type { InitContext, InitHook } from '@sparse-learning/core';
import { SignFlipPrune } from './sign-flip-prune.js';

/** Registry id of {@link DeepRSignsHook}. */
export const DEEP_R_SIGNS_HOOK_ID = 'deep-r-signs';

/**
 * DeepR's initialisation (Bellec et al. 2018, §2; docs/algorithm.md#baselines): every connection gets its fixed
 * sign right after the initial masks are drawn, handed to the `sign-flip` prune strategy. With another prune
 * strategy there are no signs to fix: the hook says so in the log and does nothing (a user may combine the
 * DeepR preset with their own prune strategy).
 */
export class DeepRSignsHook implements InitHook {
  readonly id = DEEP_R_SIGNS_HOOK_ID;

  afterMaskInit(ctx: InitContext): void {
    if (!(ctx.prune instanceof SignFlipPrune)) {
      ctx.logger.info(`init hook '${this.id}': prune strategy '${ctx.prune.id}' keeps no fixed signs; nothing to do`);
      return;
    }
    ctx.prune.fixSigns(ctx.layers, ctx.rng);
  }
}
