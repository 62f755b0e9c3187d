/**
 * The one seeded random number generator of the library (xoshiro128**, 32-bit state words).
 *
 * Why our own and not a package: the mask update draws one number per zero weight (random growth over
 * millions of positions), so the generator must be allocation-free, and checkpoints need its exact state
 * as plain JSON. xoshiro128** is small, fast in JS (`Math.imul`) and well studied.
 *
 * Streams: {@link Rng.fork} derives an independent child stream from the *seed* and a label (not from how
 * many numbers were drawn), so adding a consumer never changes the numbers another consumer sees. The
 * runner forks one stream per purpose: `mask-init`, `data-order`, `growth`, `noise`, `augment`.
 */
export interface Rng {
  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal N(0, 1) (Box–Muller, the spare value is kept in the state). */
  normal(): number;
  /** An independent stream derived from this stream's seed and `label`. */
  fork(label: string): Rng;
  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T;
  /** Serialisable state: restoring it with {@link Rng.setState} replays the same numbers. */
  getState(): RngState;
  setState(state: RngState): void;
}

/** JSON-serialisable generator state. */
export interface RngState {
  readonly seed: string;
  readonly s: readonly [number, number, number, number];
  readonly spare: number | null;
}

/** FNV-1a over a string, then splitmix32 to spread it: turns any seed text into 32-bit words. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) | 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

class Xoshiro128 implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(private seed: string) {
    const sm = { x: hashString(seed) };
    this.s0 = splitmix32(sm);
    this.s1 = splitmix32(sm);
    this.s2 = splitmix32(sm);
    this.s3 = splitmix32(sm);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  next(): number {
    return this.nextUint32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  normal(): number {
    if (this.spare !== null) {
      const value = this.spare;
      this.spare = null;
      return value;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  fork(label: string): Rng {
    return new Xoshiro128(`${this.seed}/${label}`);
  }

  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  getState(): RngState {
    return { seed: this.seed, s: [this.s0, this.s1, this.s2, this.s3], spare: this.spare };
  }

  setState(state: RngState): void {
    this.seed = state.seed;
    [this.s0, this.s1, this.s2, this.s3] = state.s;
    this.spare = state.spare;
  }
}

/** Creates the seeded generator. The same seed always gives the same stream on every platform. */
export function createRng(seed: number | string): Rng {
  return new Xoshiro128(String(seed));
}

/** Rebuilds a generator from a saved {@link RngState}. */
export function rngFromState(state: RngState): Rng {
  const rng = new Xoshiro128(state.seed);
  rng.setState(state);
  return rng;
}
