import { SparseLearningError } from '@sparse-learning/core';
import type { Container, ContainerModule, ContainerModuleLoadOptions } from 'inversify';

/** How messages name the strategy kind of a token (`Symbol.for('@sparse-learning/core/GrowthStrategy')`). */
function kindOf(token: symbol | string): string {
  const name = typeof token === 'symbol' ? (token.description ?? '') : token;
  const short = name.split('/').pop() ?? name;
  return short.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** Which ids are bound under which token, as recorded while modules load. */
export class BindingRegistry {
  private readonly names = new Map<symbol | string, Set<string>>();
  /** Which module (`builtin:prune`, a plugin specifier...) bound each `token/id`. */
  private readonly owners = new Map<string, string>();

  /**
   * Records that `owner` binds `name` under `token`.
   * @throws `E_PLUGIN_LOAD` when another module (a built-in or an earlier plugin) already bound that id: two
   *   bindings of one name would otherwise surface later as inversify's raw "ambiguous match" exception.
   */
  record(token: unknown, name: unknown, owner: string): void {
    if (typeof token !== 'symbol' && typeof token !== 'string') return;
    const previous = this.owners.get(`${String(token)}/${String(name)}`);
    if (previous !== undefined && previous !== owner) {
      throw new SparseLearningError(
        'E_PLUGIN_LOAD',
        `${owner}: ${kindOf(token)} id '${String(name)}' is already registered by ${previous}; choose another id`,
        { plugin: owner, id: String(name), kind: kindOf(token), registeredBy: previous },
      );
    }
    const set = this.names.get(token) ?? new Set<string>();
    set.add(String(name));
    this.names.set(token, set);
    this.owners.set(`${String(token)}/${String(name)}`, owner);
  }

  /** The ids bound under `token`, sorted. */
  ids(token: symbol | string): string[] {
    return [...(this.names.get(token) ?? [])].sort();
  }

  has(token: symbol | string, id: string): boolean {
    return this.names.get(token)?.has(id) ?? false;
  }

  /** The module that bound `id` under `token`. */
  ownerOf(token: symbol | string, id: string): string | undefined {
    return this.owners.get(`${String(token)}/${id}`);
  }
}

/** Wraps a fluent binding builder so that every `whenNamed(id)` along the chain is reported. */
function track<T extends object>(target: T, onName: (name: unknown) => void): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'whenNamed') onName(args[0]);
        const result = (value as (...a: unknown[]) => unknown).apply(object, args);
        return result !== null && typeof result === 'object' ? track(result as object, onName) : result;
      };
    },
  });
}

/**
 * Loads a `ContainerModule` into `container` while recording the names it binds (`whenNamed(id)`) in
 * `registry`. inversify has no public way to list the names bound under a token, and the composition root
 * needs that list to report unknown ids with the valid choices; calling the module's public `load` with the
 * container's own binding functions keeps the module's behaviour unchanged.
 */
export async function loadRecording(
  container: Container,
  module: ContainerModule,
  registry: BindingRegistry,
  owner: string,
): Promise<void> {
  const options: ContainerModuleLoadOptions = {
    bind: ((token: Parameters<Container['bind']>[0]) =>
      track(container.bind(token), (name) => registry.record(token, name, owner))) as ContainerModuleLoadOptions['bind'],
    isBound: container.isBound.bind(container),
    onActivation: container.onActivation.bind(container),
    onDeactivation: container.onDeactivation.bind(container),
    rebind: container.rebind.bind(container),
    rebindSync: container.rebindSync.bind(container),
    unbind: container.unbind.bind(container),
    unbindSync: container.unbindSync.bind(container),
  };
  await module.load(options);
}
