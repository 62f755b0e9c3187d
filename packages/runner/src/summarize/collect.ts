import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SparseLearningError } from '@sparse-learning/core';

/** The pre-registered grid's file inside a results directory. */
export const GRID_PLAN_FILE = 'grid-plan.json';

/** One cell of a grid plan (`results/grid-plan.json`). */
export interface PlanCell {
  readonly model: string;
  readonly label: string;
  readonly densities: readonly number[];
  readonly seeds: readonly number[];
}

/** One finished run found under `<model>/<label>/d<density>/s<seed>/`. */
export interface FinishedRun {
  readonly model: string;
  readonly label: string;
  readonly density: number;
  readonly seed: number;
  /** Test error in %. */
  readonly testError: number;
  readonly epochs: number | null;
  /** The run directory, relative to the results directory. */
  readonly path: string;
}

/** Everything read from a results directory. */
export interface CollectedRuns {
  readonly plan: readonly PlanCell[] | null;
  readonly finished: readonly FinishedRun[];
  /** Run directories without a `results.json` (still running, or stopped): listed, never counted. */
  readonly unfinished: readonly { model: string; label: string; density: number; seed: number; path: string }[];
}

/** Options of {@link collectRuns}. */
export interface CollectOptions {
  /**
   * Counts a run only if this returns true for its `results.json` path relative to the results directory
   * (e.g. only the files git tracks); default: every run with a `results.json`.
   */
  readonly include?: (resultsFile: string) => boolean;
}

const DENSITY_DIR = /^d(\d+(?:\.\d+)?)$/;
const SEED_DIR = /^s(\d+)$/;

function readJsonFile(path: string, root: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SparseLearningError('E_DATA_MISSING', `cannot read '${relative(root, path)}': ${(error as Error).message}`, { path });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SparseLearningError('E_DATA_CORRUPT', `'${relative(root, path)}' is not valid JSON: ${(error as Error).message}`, { path });
  }
}

const subdirs = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();

/** Validates the plan's cells (model, label, densities, seeds). */
function parsePlan(value: unknown, path: string, root: string): PlanCell[] {
  const cells = (value as { cells?: unknown } | null)?.cells;
  const bad = (why: string) =>
    new SparseLearningError('E_DATA_CORRUPT', `'${relative(root, path)}' is not a grid plan: ${why} (expected { "cells": [{ "model", "label", "densities": [..], "seeds": [..] }] })`, { path });
  if (!Array.isArray(cells)) throw bad("no 'cells' list");
  return cells.map((c: Partial<PlanCell>, i) => {
    const ok =
      c &&
      typeof c.model === 'string' &&
      typeof c.label === 'string' &&
      Array.isArray(c.densities) &&
      c.densities.every((d) => typeof d === 'number' && d > 0 && d <= 1) &&
      Array.isArray(c.seeds) &&
      c.seeds.every((s) => Number.isInteger(s));
    if (!ok) throw bad(`cell ${i} is malformed`);
    return { model: c.model!, label: c.label!, densities: c.densities!, seeds: c.seeds! };
  });
}

/**
 * Reads a results directory laid out as `<model>/<label>/d<density>/s<seed>/` (what `scripts/grid.mjs` copies:
 * `config.json`, `results.json`, `metrics.jsonl`, `grid-run.json`) and its `grid-plan.json` when present. A run
 * counts only once its `results.json` exists and parses with a finite `testError` (the driver writes it last,
 * by rename); a seed directory without one is reported as unfinished.
 *
 * @throws `E_DATA_MISSING` when `dir` does not exist, is a file, or holds neither a grid plan nor any run;
 *   `E_DATA_CORRUPT` naming the file when a `results.json` or the plan does not parse or lacks `testError`.
 */
export function collectRuns(dir: string, options: CollectOptions = {}): CollectedRuns {
  if (!existsSync(dir)) {
    throw new SparseLearningError('E_DATA_MISSING', `results directory '${dir}' does not exist; summarize takes the directory holding <model>/<label>/d<density>/s<seed>/ runs (e.g. results/)`, { dir });
  }
  if (!statSync(dir).isDirectory()) {
    throw new SparseLearningError('E_DATA_MISSING', `'${dir}' is a file; summarize takes the directory holding <model>/<label>/d<density>/s<seed>/ runs (e.g. results/)`, { dir });
  }
  const planPath = join(dir, GRID_PLAN_FILE);
  const plan = existsSync(planPath) ? parsePlan(readJsonFile(planPath, dir), planPath, dir) : null;
  const finished: FinishedRun[] = [];
  const unfinished: CollectedRuns['unfinished'][number][] = [];
  for (const model of subdirs(dir)) {
    for (const label of subdirs(join(dir, model))) {
      for (const dName of subdirs(join(dir, model, label))) {
        const d = DENSITY_DIR.exec(dName);
        if (!d) continue;
        const density = Number(d[1]);
        for (const sName of subdirs(join(dir, model, label, dName))) {
          const s = SEED_DIR.exec(sName);
          if (!s) continue;
          const seed = Number(s[1]);
          const path = join(model, label, dName, sName);
          const resultsFile = join(path, 'results.json');
          if (!existsSync(join(dir, resultsFile))) {
            unfinished.push({ model, label, density, seed, path });
            continue;
          }
          if (options.include && !options.include(resultsFile)) continue;
          const results = readJsonFile(join(dir, resultsFile), dir) as { testError?: unknown; epochs?: unknown } | null;
          const testError = results?.testError;
          if (typeof testError !== 'number' || !Number.isFinite(testError) || testError < 0 || testError > 1) {
            throw new SparseLearningError('E_DATA_CORRUPT', `'${resultsFile}' has no finite 'testError' in [0, 1] (got ${JSON.stringify(testError)})`, { path: join(dir, resultsFile) });
          }
          finished.push({
            model,
            label,
            density,
            seed,
            testError: testError * 100,
            epochs: typeof results?.epochs === 'number' ? results.epochs : null,
            path,
          });
        }
      }
    }
  }
  if (!plan && finished.length === 0 && unfinished.length === 0) {
    throw new SparseLearningError('E_DATA_MISSING', `'${dir}' holds neither ${GRID_PLAN_FILE} nor any <model>/<label>/d<density>/s<seed>/ run`, { dir });
  }
  return { plan, finished, unfinished };
}
