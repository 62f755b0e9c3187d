import { unknownIdError } from '@sparse-learning/core';
import { deepRPreset } from './deep-r.js';
import { densePreset } from './dense.js';
import { dsrPreset } from './dsr.js';
import type { Preset } from './preset.js';
import { riglPreset } from './rigl.js';
import { setPreset } from './set.js';
import { sparseMomentumPreset } from './sparse-momentum.js';
import { staticPreset } from './static.js';

export type { Preset, PresetConfig } from './preset.js';
export * from './sparse-momentum.js';
export * from './set.js';
export * from './deep-r.js';
export * from './dense.js';
export * from './static.js';
export * from './rigl.js';
export * from './dsr.js';

/** The built-in presets, in display order. */
export const PRESETS: readonly Preset[] = [sparseMomentumPreset, setPreset, deepRPreset, dsrPreset, densePreset, staticPreset, riglPreset];

/** Ids of the built-in presets. */
export const presetIds: readonly string[] = PRESETS.map((p) => p.id);

/** The preset with this id; `E_UNKNOWN_ID` listing the valid ids otherwise. */
export function getPreset(id: string): Preset {
  const preset = PRESETS.find((p) => p.id === id);
  if (!preset) throw unknownIdError('preset', id, presetIds);
  return preset;
}
