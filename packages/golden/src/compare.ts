/** Outcome of one golden case. */
export interface GoldenResult {
  readonly schema: string;
  readonly name: string;
  /** The file the case came from, when run from a directory. */
  readonly file?: string;
  readonly passed: boolean;
  /** Human-readable differences (at most a few per field); empty when the case passed. */
  readonly mismatches: string[];
}

/** Collects mismatches with a cap per field, so one broken array does not print thousands of lines. */
export class MismatchLog {
  readonly items: string[] = [];
  private readonly perField = 3;

  /** Exact equality of two integer/bit arrays (or number arrays that must match bit for bit). */
  exactArray(field: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
    if (actual.length !== expected.length) {
      this.items.push(`${field}: length ${actual.length}, expected ${expected.length}`);
      return;
    }
    let shown = 0;
    let total = 0;
    for (let i = 0; i < expected.length; i++) {
      // `===` treats -0 and 0 as equal: the sign of zero is not significant (golden README).
      if (actual[i] !== expected[i]) {
        total++;
        if (shown++ < this.perField) this.items.push(`${field}[${i}]: ${actual[i]}, expected ${expected[i]}`);
      }
    }
    if (total > this.perField) this.items.push(`${field}: ${total} differences in all`);
  }

  /** Float32 arrays: both sides rounded to float32, then exact. */
  float32Array(field: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
    this.exactArray(field, Float32Array.from(actual), Float32Array.from(expected));
  }

  /** Float arrays within an absolute tolerance. */
  closeArray(field: string, actual: ArrayLike<number>, expected: ArrayLike<number>, absTol: number): void {
    if (actual.length !== expected.length) {
      this.items.push(`${field}: length ${actual.length}, expected ${expected.length}`);
      return;
    }
    let shown = 0;
    let worst = 0;
    for (let i = 0; i < expected.length; i++) {
      const d = Math.abs(actual[i] - expected[i]);
      if (!(d <= absTol)) {
        worst = Math.max(worst, d);
        if (shown++ < this.perField) this.items.push(`${field}[${i}]: ${actual[i]}, expected ${expected[i]} (|diff| ${d} > ${absTol})`);
      }
    }
    if (shown > this.perField) this.items.push(`${field}: ${shown} values off, worst |diff| ${worst}`);
  }

  exact(field: string, actual: unknown, expected: unknown): void {
    if (actual !== expected) this.items.push(`${field}: ${String(actual)}, expected ${String(expected)}`);
  }

  /** `|a − e| ≤ relTol · max(|e|, floor)`: relative, with an absolute floor for values near 0. */
  close(field: string, actual: number, expected: number, relTol: number, floor = 1): void {
    const d = Math.abs(actual - expected);
    if (!(d <= relTol * Math.max(Math.abs(expected), floor))) {
      this.items.push(`${field}: ${actual}, expected ${expected} (|diff| ${d})`);
    }
  }
}
