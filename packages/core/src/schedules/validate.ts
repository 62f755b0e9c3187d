import { outOfRangeError } from '../errors.js';

/** Throws `E_OUT_OF_RANGE` unless `value` is a finite number within `[min, max]`. */
export function checkRange(field: string, value: number, min: number, max: number, range: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw outOfRangeError(field, value, range);
  }
}

/** Throws `E_OUT_OF_RANGE` unless `value` is an integer >= `min`. */
export function checkInteger(field: string, value: number, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw outOfRangeError(field, value, `an integer >= ${min}`);
  }
}

/** Throws `E_OUT_OF_RANGE` unless `step` is a usable step index (an integer >= 0). */
export function checkStep(field: string, step: number): void {
  checkInteger(field, step, 0);
}
