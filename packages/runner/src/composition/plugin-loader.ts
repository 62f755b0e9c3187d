import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SparseLearningError, isPluginModule, type PluginModule } from '@sparse-learning/core';

/** A user's plugin module ready to register: where it came from and its plugins. */
export interface LoadedPlugin {
  /** The specifier the user gave (path or package name). */
  readonly specifier: string;
  /** The file it resolved to. */
  readonly resolved: string;
  readonly module: PluginModule;
}

/**
 * Duck-typed check for an inversify `ContainerModule` (another copy of inversify gives another class, so no
 * `instanceof`): the plugin shape of version 0.1, which now gets a migration message.
 */
export function isContainerModule(value: unknown): value is { load: unknown; id: number } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { load?: unknown }).load === 'function' &&
    typeof (value as { id?: unknown }).id === 'number'
  );
}

function looksLikePath(specifier: string): boolean {
  return specifier.startsWith('.') || isAbsolute(specifier) || /\.(c|m)?(j|t)s$/.test(specifier);
}

/** How to write a plugin module, for the migration message. */
const PLUGIN_SHAPE =
  "export default { name: 'my-plugins', plugins: [{ kind: 'growth', id: 'my-growth', summary: '…', options: {}, create: (options, ctx) => new MyGrowth(options) }] } (see the runner README, 'Writing a plugin')";

/**
 * Imports a user plugin given by path (relative to `cwd`) or package name (resolved from `cwd`, then from the
 * runner itself) and returns its plugin module (`{ name, plugins }`): the module's `default` export, or a named
 * export `module` or `plugin` (also inside a CommonJS `default` object).
 *
 * @throws `E_PLUGIN_LOAD` when the file or package cannot be found or imported, or exports no plugin module
 *   (the message lists the exports it found; an inversify `ContainerModule`, the 0.1 plugin shape, gets a
 *   migration hint).
 */
export async function loadPlugin(specifier: string, cwd: string = process.cwd()): Promise<LoadedPlugin> {
  let url: string;
  let resolved: string;
  if (looksLikePath(specifier)) {
    resolved = resolve(cwd, specifier);
    if (!existsSync(resolved)) {
      throw new SparseLearningError('E_PLUGIN_LOAD', `plugin '${specifier}': file ${resolved} does not exist`, { plugin: specifier });
    }
    url = pathToFileURL(resolved).href;
  } else {
    try {
      resolved = createRequire(join(cwd, 'noop.js')).resolve(specifier);
      url = pathToFileURL(resolved).href;
    } catch {
      // ESM-only packages have no `require` condition; let the runtime's own resolver try.
      resolved = specifier;
      url = specifier;
    }
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SparseLearningError('E_PLUGIN_LOAD', `plugin '${specifier}' could not be imported: ${reason}`, { plugin: specifier }, { cause: error });
  }
  const candidates: unknown[] = [namespace.default, namespace.module, namespace.plugin];
  const inner = namespace.default as Record<string, unknown> | undefined;
  if (inner && typeof inner === 'object') candidates.push(inner.default, inner.module, inner.plugin);
  const module = candidates.find(isPluginModule);
  if (!module) {
    if (candidates.some(isContainerModule)) {
      throw new SparseLearningError(
        'E_PLUGIN_LOAD',
        `plugin '${specifier}' exports an inversify ContainerModule, the plugin shape of version 0.1; export a plugin module instead: ${PLUGIN_SHAPE}`,
        { plugin: specifier, exports: Object.keys(namespace) },
      );
    }
    throw new SparseLearningError(
      'E_PLUGIN_LOAD',
      `plugin '${specifier}' exports no plugin module { name, plugins } as 'default', 'module' or 'plugin' (exports: ${Object.keys(namespace).join(', ') || 'none'})`,
      { plugin: specifier, exports: Object.keys(namespace) },
    );
  }
  return { specifier, resolved, module };
}
