import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureTfBackend } from '@sparse-learning/testing';
import type { GoldenResult } from './compare.js';
import { runMaskUpdateGolden } from './mask-update-golden.js';
import { runSgdGolden } from './optimizer-golden.js';
import { runScheduleGolden } from './schedule-golden.js';
import { MASK_UPDATE_GOLDEN_SCHEMA, SCHEDULE_GOLDEN_SCHEMA, SGD_GOLDEN_SCHEMA } from './schemas.js';

/** The sub-directories of a golden directory, in the order they are run. */
export const GOLDEN_SUBDIRECTORIES = ['mask-update', 'optimizer', 'schedule'] as const;

/** Every `*.json` case file under the layout's sub-directories of `dir`, sorted per sub-directory. */
export function listGoldenFiles(dir: string): string[] {
  const files: string[] = [];
  for (const sub of GOLDEN_SUBDIRECTORIES) {
    const subdir = path.join(dir, sub);
    if (!existsSync(subdir) || !statSync(subdir).isDirectory()) continue;
    for (const name of readdirSync(subdir).filter((f) => f.endsWith('.json')).sort()) files.push(path.join(subdir, name));
  }
  return files;
}

/**
 * Runs one parsed case, dispatching on its `schema` (not on its directory). A case that cannot be parsed or
 * whose run throws is a failed result carrying the error message.
 */
export function runGoldenCase(json: unknown, file?: string): GoldenResult {
  const schema = typeof json === 'object' && json !== null ? String((json as { schema?: unknown }).schema) : 'unknown';
  const name = typeof json === 'object' && json !== null ? String((json as { name?: unknown }).name ?? file ?? '?') : (file ?? '?');
  try {
    let result: GoldenResult;
    if (schema === MASK_UPDATE_GOLDEN_SCHEMA) result = runMaskUpdateGolden(json);
    else if (schema === SGD_GOLDEN_SCHEMA) result = runSgdGolden(json);
    else if (schema === SCHEDULE_GOLDEN_SCHEMA) result = runScheduleGolden(json);
    else return { schema, name, file, passed: false, mismatches: [`unknown schema '${schema}'`] };
    return file === undefined ? result : { ...result, file };
  } catch (error) {
    return { schema, name, file, passed: false, mismatches: [error instanceof Error ? error.message : String(error)] };
  }
}

/** Reads and runs one case file. */
export function runGoldenFile(file: string): GoldenResult {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return { schema: 'unknown', name: path.basename(file), file, passed: false, mismatches: [`cannot read JSON: ${(error as Error).message}`] };
  }
  return runGoldenCase(json, file);
}

/** Runs every case file of a golden directory (layout `mask-update/`, `optimizer/`, `schedule/`). */
export async function runGoldenDirectory(dir: string): Promise<GoldenResult[]> {
  await ensureTfBackend();
  return listGoldenFiles(dir).map(runGoldenFile);
}
