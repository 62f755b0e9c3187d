import { PLUGIN_KIND_LABELS, SparseLearningError, type PluginRegistry } from '@sparse-learning/core';
import type { Command } from 'commander';
import { createRegistry } from '../composition/compose.js';
import { PLUGIN_LIST_SLOTS, PLUGIN_SLOTS } from '../config/plugin-slots.js';
import { defaultConfig } from '../config/schema.js';

let builtins: PluginRegistry | null = null;

/** The built-in plugins (listings and help text come from them, never from hand-kept lists). */
export function builtinRegistry(): PluginRegistry {
  builtins ??= createRegistry();
  return builtins;
}

function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The `--growth-opt`-style flag of a slot's options. */
export function optionFlagOf(field: string): string {
  return `--${kebab(field)}-opt`;
}

/** Help text of a plugin flag: its kind, the registered ids and the default, e.g. for `--growth`. */
export function slotHelp(field: string): string {
  const slot = PLUGIN_SLOTS.find((s) => s.field === field)!;
  const fallback = (defaultConfig() as unknown as Record<string, unknown>)[field];
  return `${PLUGIN_KIND_LABELS[slot.kind]}: ${builtinRegistry().ids(slot.kind).join(', ')}, or a plugin id (default ${String(fallback)}; options with ${optionFlagOf(field)})`;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * Adds the plugin-option flags: `--<slot>-opt key=value` (repeatable) for every plugin slot, and the
 * repeatable `--gradient-transform <id>` and `--init-hook <id>` lists.
 */
export function addPluginOptions(command: Command): Command {
  for (const { field } of PLUGIN_SLOTS) {
    command.option(`${optionFlagOf(field)} <key=value>`, `an option of the ${field} plugin (repeatable; values are JSON or text)`, collect);
  }
  for (const { field, kind } of PLUGIN_LIST_SLOTS) {
    const flag = `--${kebab(field).replace(/s$/, '')}`;
    command.option(`${flag} <id>`, `add one ${PLUGIN_KIND_LABELS[kind]} (repeatable): ${builtinRegistry().ids(kind).join(', ')}, or a plugin id`, collect);
  }
  return command;
}

/** `key=value` → `[key, value]`, the value parsed as JSON when it is JSON (`true`, `3`, `[…]`), else text. */
function parseAssignment(flag: string, text: string): [string, unknown] {
  const at = text.indexOf('=');
  if (at <= 0) {
    throw new SparseLearningError('E_CONFIG_INVALID', `${flag} '${text}' must be key=value (e.g. ${flag} legacyTopK=true)`, { flag, value: text });
  }
  const raw = text.slice(at + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // plain text
  }
  return [text.slice(0, at), value];
}

/** Turns the plugin-option flags commander parsed into configuration fields (`growthOptions`, lists). */
export function pluginFlagValues(options: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const { field, optionsField } of PLUGIN_SLOTS) {
    const flag = optionFlagOf(field);
    const given = options[camel(flag.slice(2))];
    if (!Array.isArray(given)) continue;
    values[optionsField] = Object.fromEntries(given.map((text: string) => parseAssignment(flag, text)));
  }
  for (const { field } of PLUGIN_LIST_SLOTS) {
    const given = options[camel(kebab(field).replace(/s$/, ''))];
    if (Array.isArray(given)) values[field] = given.map((id: string) => ({ id, options: {} }));
  }
  return values;
}
