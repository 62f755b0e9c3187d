import type { PluginKind } from '@sparse-learning/core';

/**
 * A configuration field that names one plugin: `growth: "momentum"` (or `{ "id": "momentum", "options": {…} }`
 * in a file), its options in `growthOptions`, the flags `--growth <id>` and `--growth-opt key=value`.
 */
export interface PluginSlot {
  readonly field: string;
  /** The field holding this slot's options (`growthOptions`). */
  readonly optionsField: string;
  readonly kind: PluginKind;
}

/** A configuration field that names a list of plugins (`gradientTransforms: [{ id, options }]`). */
export interface PluginListSlot {
  readonly field: string;
  readonly kind: PluginKind;
}

function slot(field: string, kind: PluginKind): PluginSlot {
  return { field, optionsField: `${field}Options`, kind };
}

/**
 * Every single-plugin field of the configuration. `decaySchedule` and `optimizer` keep the official `main.py`
 * names (`--decay_schedule`, `--optimizer`).
 */
export const PLUGIN_SLOTS: readonly PluginSlot[] = [
  slot('prune', 'prune'),
  slot('growth', 'growth'),
  slot('redistribution', 'redistribution'),
  slot('densityDistribution', 'density-distribution'),
  slot('decaySchedule', 'prune-rate-schedule'),
  slot('lrSchedule', 'learning-rate-schedule'),
  slot('trigger', 'mask-update-trigger'),
  slot('optimizer', 'optimizer'),
];

/** The list-of-plugins fields: applied in order. */
export const PLUGIN_LIST_SLOTS: readonly PluginListSlot[] = [
  { field: 'gradientTransforms', kind: 'gradient-transform' },
  { field: 'initHooks', kind: 'init-hook' },
];

/** A plugin chosen in a configuration layer, before its options are validated. */
export interface PluginRefInput {
  readonly id: string;
  readonly options?: Record<string, unknown>;
}

function isRefObject(value: unknown): value is PluginRefInput {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'id' in value;
}

/**
 * Rewrites one configuration layer so that every plugin slot is an id plus an options object:
 * `{ growth: { id, options } }` → `{ growth: id, growthOptions: options }`; list entries given as plain ids
 * become `{ id, options: {} }`. Anything malformed is left alone for the schema to report.
 */
export function normalizePluginFields(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...values };
  for (const { field, optionsField } of PLUGIN_SLOTS) {
    const value = values[field];
    if (isRefObject(value) && Object.keys(value).every((k) => k === 'id' || k === 'options')) {
      out[field] = value.id;
      if (value.options !== undefined) {
        out[optionsField] =
          typeof value.options === 'object' && value.options !== null && typeof values[optionsField] === 'object' && values[optionsField] !== null
            ? { ...(values[optionsField] as object), ...value.options }
            : value.options;
      }
    }
  }
  for (const { field } of PLUGIN_LIST_SLOTS) {
    const value = values[field];
    if (Array.isArray(value)) out[field] = value.map((entry) => (typeof entry === 'string' ? { id: entry, options: {} } : entry));
  }
  return out;
}

/**
 * Merges the plugin slots of configuration layers (lowest precedence first): options belong to the id they
 * were given with. A layer that changes a slot's id drops the options of the earlier layers (so a preset's
 * options for its growth strategy never reach the growth strategy a user swapped in); a layer that keeps the
 * id, or sets only options, merges them key by key.
 */
export function mergePluginSlots(merged: Record<string, unknown>, layer: Record<string, unknown>): void {
  for (const { field, optionsField } of PLUGIN_SLOTS) {
    const id = layer[field];
    if (id !== undefined && id !== merged[field]) delete merged[optionsField];
    const options = layer[optionsField];
    if (options === undefined) continue;
    const previous = merged[optionsField];
    merged[optionsField] =
      typeof options === 'object' && options !== null && !Array.isArray(options) && typeof previous === 'object' && previous !== null
        ? { ...(previous as object), ...(options as object) }
        : options;
  }
}
