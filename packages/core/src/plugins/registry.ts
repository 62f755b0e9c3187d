import { SparseLearningError, unknownIdError } from '../errors.js';
import { parsePluginOptions, type OptionsSchema } from './options.js';
import { PLUGIN_KINDS, type AnyPlugin, type PluginContext, type PluginKind, type PluginKinds, type PluginModule } from './plugin.js';

/** How messages name each kind (`unknown growth strategy 'x'; valid growth strategy ids: …`). */
export const PLUGIN_KIND_LABELS: Readonly<Record<PluginKind, string>> = {
  prune: 'prune strategy',
  growth: 'growth strategy',
  redistribution: 'redistribution strategy',
  'density-distribution': 'density distribution',
  'prune-rate-schedule': 'prune-rate schedule',
  'learning-rate-schedule': 'learning-rate schedule',
  'mask-update-trigger': 'mask-update trigger',
  optimizer: 'optimizer',
  'gradient-transform': 'gradient transform',
  'init-hook': 'init hook',
};

/** A plugin chosen by id, with options as written by the user or a preset (not yet validated). */
export interface PluginRef {
  readonly id: string;
  readonly options?: Readonly<Record<string, unknown>>;
}

/** A plugin with its validated options (defaults filled in): ready to build, and what `config.json` records. */
export interface PluginChoice<K extends PluginKind = PluginKind> {
  readonly kind: K;
  readonly plugin: AnyPlugin;
  readonly options: Readonly<Record<string, unknown>>;
}

function loadError(owner: string, problem: string, details: Record<string, unknown> = {}): SparseLearningError {
  return new SparseLearningError('E_PLUGIN_LOAD', `plugin module '${owner}': ${problem}`, { plugin: owner, ...details });
}

/**
 * The plugins of one process or run, by kind and id: what the composition root resolves the configured ids
 * against, what listings and `--help` print, and where an unknown id's error finds the valid choices.
 * Plain data, no container: the runner binds the chosen plugins' products into inversify.
 */
export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, { plugin: AnyPlugin; owner: string }>>();

  constructor(modules: readonly PluginModule[] = []) {
    for (const module of modules) this.add(module);
  }

  /**
   * Registers every plugin of `module`.
   * @throws `E_PLUGIN_LOAD` for a malformed plugin (unknown kind, no id, no factory) or an id its kind already
   *   has, naming both modules.
   */
  add(module: PluginModule, owner: string = module.name): this {
    for (const [index, raw] of module.plugins.entries()) {
      const plugin = raw as Partial<AnyPlugin> | null;
      const where = `plugin #${index + 1}${plugin && typeof plugin.id === 'string' ? ` '${plugin.id}'` : ''}`;
      if (!plugin || typeof plugin !== 'object') throw loadError(owner, `${where} is not an object`);
      if (!PLUGIN_KINDS.includes(plugin.kind as PluginKind)) {
        throw loadError(owner, `${where} has kind ${JSON.stringify(plugin.kind)}; valid kinds: ${PLUGIN_KINDS.join(', ')}`, {
          valid: PLUGIN_KINDS,
        });
      }
      if (typeof plugin.id !== 'string' || plugin.id === '') throw loadError(owner, `${where} has no id`);
      if (typeof plugin.create !== 'function') throw loadError(owner, `${where} has no create(options, ctx) factory`);
      const kind = plugin.kind as PluginKind;
      const ids = this.byKind.get(kind) ?? new Map();
      const taken = ids.get(plugin.id);
      if (taken) {
        throw loadError(owner, `${PLUGIN_KIND_LABELS[kind]} id '${plugin.id}' is already registered by '${taken.owner}'; choose another id`, {
          kind,
          id: plugin.id,
          registeredBy: taken.owner,
        });
      }
      const normalized: AnyPlugin = {
        ...(plugin as AnyPlugin),
        summary: typeof plugin.summary === 'string' ? plugin.summary : '',
        options: (plugin.options ?? {}) as OptionsSchema,
      };
      ids.set(plugin.id, { plugin: normalized, owner });
      this.byKind.set(kind, ids);
    }
    return this;
  }

  /** The ids of one kind, sorted. */
  ids(kind: PluginKind): string[] {
    return [...(this.byKind.get(kind)?.keys() ?? [])].sort();
  }

  has(kind: PluginKind, id: string): boolean {
    return this.byKind.get(kind)?.has(id) ?? false;
  }

  /** The plugins of one kind, sorted by id. */
  list(kind: PluginKind): AnyPlugin[] {
    return this.ids(kind).map((id) => this.byKind.get(kind)!.get(id)!.plugin);
  }

  /** The module that registered `id`. */
  ownerOf(kind: PluginKind, id: string): string | undefined {
    return this.byKind.get(kind)?.get(id)?.owner;
  }

  /** @throws `E_UNKNOWN_ID` naming the kind and listing its valid ids. */
  get(kind: PluginKind, id: string): AnyPlugin {
    const entry = this.byKind.get(kind)?.get(id);
    if (!entry) throw unknownIdError(PLUGIN_KIND_LABELS[kind], id, this.ids(kind));
    return entry.plugin;
  }

  /**
   * Looks `ref.id` up and validates `ref.options` against the plugin's schema.
   * @throws `E_UNKNOWN_ID` for an unknown id; the option errors of {@link parsePluginOptions}.
   */
  choose<K extends PluginKind>(kind: K, ref: PluginRef | string): PluginChoice<K> {
    const { id, options } = typeof ref === 'string' ? { id: ref, options: undefined } : ref;
    const plugin = this.get(kind, id);
    return { kind, plugin, options: parsePluginOptions({ kind: PLUGIN_KIND_LABELS[kind], id, options: plugin.options }, options ?? {}) };
  }

  /** Builds the chosen plugin's product; its `id` must be the plugin's (`E_PLUGIN_CONTRACT` otherwise). */
  create<K extends PluginKind>(choice: PluginChoice<K>, ctx: PluginContext): PluginKinds[K] {
    const product = choice.plugin.create(choice.options, ctx) as PluginKinds[K];
    if (!product || typeof product !== 'object') {
      throw new SparseLearningError(
        'E_PLUGIN_CONTRACT',
        `plugin '${choice.plugin.id}', hook 'create': the ${PLUGIN_KIND_LABELS[choice.kind]} factory returned ${String(product)}`,
        { plugin: choice.plugin.id, hook: 'create' },
      );
    }
    return product;
  }
}
