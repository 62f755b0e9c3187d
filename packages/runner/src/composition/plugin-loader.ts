import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SparseLearningError } from '@sparse-learning/core';
import type { ContainerModule } from 'inversify';

/** A plugin module ready to load: where it came from and its inversify `ContainerModule`. */
export interface LoadedPlugin {
  /** The specifier the user gave (path or package name). */
  readonly specifier: string;
  /** The file it resolved to. */
  readonly resolved: string;
  readonly module: ContainerModule;
}

/** Duck-typed check: another copy of inversify gives another `ContainerModule` class, so no `instanceof`. */
export function isContainerModule(value: unknown): value is ContainerModule {
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

/**
 * Imports a user plugin given by path (relative to `cwd`) or package name (resolved from `cwd`, then from the
 * runner itself) and returns its `ContainerModule`: the module's `default` export, or a named export `module` or
 * `plugin` (also inside a CommonJS `default` object).
 *
 * @throws `E_PLUGIN_LOAD` when the file or package cannot be found or imported, or exports no ContainerModule
 *   (the message lists the exports it found).
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
  const module = candidates.find(isContainerModule);
  if (!module) {
    throw new SparseLearningError(
      'E_PLUGIN_LOAD',
      `plugin '${specifier}' exports no inversify ContainerModule as 'default', 'module' or 'plugin' (exports: ${Object.keys(namespace).join(', ') || 'none'})`,
      { plugin: specifier, exports: Object.keys(namespace) },
    );
  }
  return { specifier, resolved, module };
}
