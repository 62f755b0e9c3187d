import { SparseLearningError } from '@sparse-learning/core';

/** Schema ids of the golden reference files (`shared/golden/README.md`). */
export const MASK_UPDATE_GOLDEN_SCHEMA = 'sparse-learning/mask-update-golden@1';
export const SGD_GOLDEN_SCHEMA = 'sparse-learning/sgd-golden@1';
export const SCHEDULE_GOLDEN_SCHEMA = 'sparse-learning/schedule-golden@1';

/** One masked tensor of a mask-update case (PyTorch layout; the engine is layout-agnostic). */
export interface MaskUpdateGoldenLayer {
  readonly name: string;
  readonly shape: readonly number[];
  readonly weight: readonly number[];
  readonly mask: readonly number[];
  readonly momentum: readonly number[];
}

/** Expected outcome of one layer. */
export interface MaskUpdateGoldenExpectedLayer {
  readonly name: string;
  readonly mask: readonly number[];
  readonly weight: readonly number[];
  readonly pruneRate: number;
  readonly removed: number;
  readonly regrow: number;
  readonly regrowTarget: number;
  readonly stat: number;
  readonly share: number;
  readonly prunedIndices: readonly number[];
  readonly grownIndices: readonly number[];
}

/** `sparse-learning/mask-update-golden@1`: one official `truncate_weights()` call. */
export interface MaskUpdateGoldenCase {
  readonly schema: typeof MASK_UPDATE_GOLDEN_SCHEMA;
  readonly name: string;
  readonly description: string;
  readonly config: {
    readonly prune: string;
    readonly growth: string;
    readonly redistribution: string;
    readonly pruneRate: number;
    readonly baselineNonzero: number;
    readonly adjustedGrowth: number;
    readonly adjustments: readonly number[];
  };
  readonly layers: readonly MaskUpdateGoldenLayer[];
  readonly expected: {
    readonly layers: readonly MaskUpdateGoldenExpectedLayer[];
    readonly totalRemoved: number;
    readonly totalNonzero: number;
    readonly adjustedGrowth: number;
    readonly adjustments: readonly number[];
  };
}

/** `sparse-learning/sgd-golden@1`: `torch.optim.SGD` on one tensor for a few steps. */
export interface SgdGoldenCase {
  readonly schema: typeof SGD_GOLDEN_SCHEMA;
  readonly name: string;
  readonly description: string;
  readonly config: {
    readonly lr: number;
    readonly momentum: number;
    readonly dampening: number;
    readonly nesterov: boolean;
    readonly weightDecay: number;
  };
  readonly shape: readonly number[];
  readonly initialWeight: readonly number[];
  readonly mask?: readonly number[];
  readonly steps: readonly { readonly grad: readonly number[]; readonly weight: readonly number[]; readonly momentumBuffer: readonly number[] }[];
}

/** One point of a schedule case: `step` (prune-rate schedules) or `batch` (learning-rate schedules). */
export interface ScheduleGoldenPoint {
  readonly step?: number;
  readonly batch?: number;
  readonly schedulerSteps?: number;
  readonly value: number;
}

/** `sparse-learning/schedule-golden@1`: values of the official schedules at given steps. */
export interface ScheduleGoldenCase {
  readonly schema: typeof SCHEDULE_GOLDEN_SCHEMA;
  readonly name: string;
  readonly description: string;
  readonly config:
    | { readonly kind: 'cosine'; readonly initial: number; readonly tMax: number; readonly etaMin: number }
    | { readonly kind: 'linear'; readonly initial: number; readonly tMax: number }
    | {
        readonly kind: 'step-lr';
        readonly initial: number;
        readonly stepSize: number;
        readonly gamma: number;
        readonly steppedBeforeEachBatch: boolean;
      };
  readonly points: readonly ScheduleGoldenPoint[];
}

/** Any golden case. */
export type GoldenCase = MaskUpdateGoldenCase | SgdGoldenCase | ScheduleGoldenCase;

// ---------------------------------------------------------------------------------------------------------
// Validation: hand-written (a few dozen lines) rather than a schema library, so the runner has no dependency
// besides core; every problem names the JSON path.

type Json = Record<string, unknown>;

function corrupt(where: string, problem: string): SparseLearningError {
  return new SparseLearningError('E_DATA_CORRUPT', `golden case ${where}: ${problem}`, { where, problem });
}

function obj(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(where, 'expected an object');
  return value as Json;
}

function num(o: Json, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || Number.isNaN(v)) throw corrupt(`${where}.${key}`, `expected a number, got ${JSON.stringify(v)}`);
  return v;
}

function int(o: Json, key: string, where: string): number {
  const v = num(o, key, where);
  if (!Number.isInteger(v)) throw corrupt(`${where}.${key}`, `expected an integer, got ${v}`);
  return v;
}

function str(o: Json, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw corrupt(`${where}.${key}`, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function nums(o: Json, key: string, where: string, length?: number): number[] {
  const v = o[key];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw corrupt(`${where}.${key}`, 'expected an array of numbers');
  if (length !== undefined && v.length !== length) throw corrupt(`${where}.${key}`, `expected ${length} entries, got ${v.length}`);
  return v as number[];
}

function bits(o: Json, key: string, where: string, length: number): number[] {
  const v = nums(o, key, where, length);
  if (v.some((x) => x !== 0 && x !== 1)) throw corrupt(`${where}.${key}`, 'expected 0/1 entries');
  return v;
}

function arr(o: Json, key: string, where: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw corrupt(`${where}.${key}`, 'expected an array');
  return v;
}

function header(o: Json, schema: string, where: string): void {
  if (o.schema !== schema) throw corrupt(`${where}.schema`, `expected '${schema}', got ${JSON.stringify(o.schema)}`);
  str(o, 'name', where);
  if (o.description !== undefined) str(o, 'description', where);
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Validates a parsed `mask-update-golden@1` object. Throws `E_DATA_CORRUPT` naming the bad path. */
export function loadMaskUpdateCase(json: unknown): MaskUpdateGoldenCase {
  const o = obj(json, '$');
  header(o, MASK_UPDATE_GOLDEN_SCHEMA, '$');
  const config = obj(o.config, '$.config');
  for (const key of ['prune', 'growth', 'redistribution']) str(config, key, '$.config');
  for (const key of ['pruneRate', 'baselineNonzero', 'adjustedGrowth']) num(config, key, '$.config');
  nums(config, 'adjustments', '$.config');
  const layers = arr(o, 'layers', '$');
  if (layers.length === 0) throw corrupt('$.layers', 'expected at least one layer');
  const sizes = layers.map((l, i) => {
    const where = `$.layers[${i}]`;
    const layer = obj(l, where);
    str(layer, 'name', where);
    const size = sizeOf(nums(layer, 'shape', where));
    nums(layer, 'weight', where, size);
    bits(layer, 'mask', where, size);
    nums(layer, 'momentum', where, size);
    return size;
  });
  const expected = obj(o.expected, '$.expected');
  const expLayers = arr(expected, 'layers', '$.expected');
  if (expLayers.length !== layers.length) throw corrupt('$.expected.layers', `expected ${layers.length} layers, got ${expLayers.length}`);
  expLayers.forEach((l, i) => {
    const where = `$.expected.layers[${i}]`;
    const layer = obj(l, where);
    str(layer, 'name', where);
    bits(layer, 'mask', where, sizes[i]);
    nums(layer, 'weight', where, sizes[i]);
    for (const key of ['pruneRate', 'regrowTarget', 'stat', 'share']) num(layer, key, where);
    for (const key of ['removed', 'regrow']) int(layer, key, where);
    nums(layer, 'prunedIndices', where);
    nums(layer, 'grownIndices', where);
  });
  int(expected, 'totalRemoved', '$.expected');
  int(expected, 'totalNonzero', '$.expected');
  num(expected, 'adjustedGrowth', '$.expected');
  nums(expected, 'adjustments', '$.expected');
  return o as unknown as MaskUpdateGoldenCase;
}

/** Validates a parsed `sgd-golden@1` object. */
export function loadSgdCase(json: unknown): SgdGoldenCase {
  const o = obj(json, '$');
  header(o, SGD_GOLDEN_SCHEMA, '$');
  const config = obj(o.config, '$.config');
  for (const key of ['lr', 'momentum', 'dampening', 'weightDecay']) num(config, key, '$.config');
  if (typeof config.nesterov !== 'boolean') throw corrupt('$.config.nesterov', 'expected a boolean');
  const size = sizeOf(nums(o, 'shape', '$'));
  nums(o, 'initialWeight', '$', size);
  if (o.mask !== undefined) bits(o, 'mask', '$', size);
  const steps = arr(o, 'steps', '$');
  steps.forEach((s, i) => {
    const step = obj(s, `$.steps[${i}]`);
    for (const key of ['grad', 'weight', 'momentumBuffer']) nums(step, key, `$.steps[${i}]`, size);
  });
  return o as unknown as SgdGoldenCase;
}

/** Validates a parsed `schedule-golden@1` object. */
export function loadScheduleCase(json: unknown): ScheduleGoldenCase {
  const o = obj(json, '$');
  header(o, SCHEDULE_GOLDEN_SCHEMA, '$');
  const config = obj(o.config, '$.config');
  const kind = str(config, 'kind', '$.config');
  num(config, 'initial', '$.config');
  if (kind === 'cosine') {
    num(config, 'tMax', '$.config');
    num(config, 'etaMin', '$.config');
  } else if (kind === 'linear') {
    num(config, 'tMax', '$.config');
  } else if (kind === 'step-lr') {
    num(config, 'stepSize', '$.config');
    num(config, 'gamma', '$.config');
    if (typeof config.steppedBeforeEachBatch !== 'boolean') throw corrupt('$.config.steppedBeforeEachBatch', 'expected a boolean');
  } else {
    throw corrupt('$.config.kind', `expected 'cosine', 'linear' or 'step-lr', got '${kind}'`);
  }
  arr(o, 'points', '$').forEach((p, i) => {
    const point = obj(p, `$.points[${i}]`);
    num(point, 'value', `$.points[${i}]`);
    if (typeof point.step !== 'number' && typeof point.batch !== 'number') throw corrupt(`$.points[${i}]`, 'expected `step` or `batch`');
  });
  return o as unknown as ScheduleGoldenCase;
}

/** Validates any golden case, dispatching on its `schema` field. */
export function loadGoldenCase(json: unknown): GoldenCase {
  const schema = obj(json, '$').schema;
  switch (schema) {
    case MASK_UPDATE_GOLDEN_SCHEMA:
      return loadMaskUpdateCase(json);
    case SGD_GOLDEN_SCHEMA:
      return loadSgdCase(json);
    case SCHEDULE_GOLDEN_SCHEMA:
      return loadScheduleCase(json);
    default:
      throw corrupt('$.schema', `unknown schema ${JSON.stringify(schema)}; valid: ${[MASK_UPDATE_GOLDEN_SCHEMA, SGD_GOLDEN_SCHEMA, SCHEDULE_GOLDEN_SCHEMA].join(', ')}`);
  }
}
