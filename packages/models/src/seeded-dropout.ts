import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { outOfRangeError, seededDropout } from '@sparse-learning/core';

/**
 * The counter-based source of a model's random draws in training mode (dropout masks). A draw's seed is
 * `<key>/<i>`, `i` counting the draws since the key was set; so the masks of a training step are a pure
 * function of the key the caller sets before it (the runner uses `<seed>/dropout/<epoch>/<batch>`), and a
 * run resumed in the middle of an epoch draws exactly the masks the uninterrupted run drew.
 */
export class RandomKeyStream {
  private key: string;
  private draws = 0;

  /** `key` is the key in force until the first {@link RandomKeyStream.setKey}. */
  constructor(key: string) {
    this.key = key;
  }

  /** Starts a new sequence of draws: the next draw's seed is `<key>/0`. */
  setKey(key: string): void {
    this.key = key;
    this.draws = 0;
  }

  /** The seed of the next draw. */
  nextSeed(): string {
    const seed = `${this.key}/${this.draws}`;
    this.draws += 1;
    return seed;
  }
}

/** The default key of a model's stream: seeded models are reproducible from construction on. */
export function defaultRandomKey(seed: number | string | undefined): string {
  // Unseeded models keep fresh masks on every run, like tfjs' own dropout (and PyTorch without a seed).
  return seed === undefined ? `unseeded/${Math.random().toString(36).slice(2)}` : `${seed}/dropout`;
}

/** Options of {@link SeededDropout}. */
export interface SeededDropoutArgs {
  readonly name: string;
  /** Probability of zeroing an element (PyTorch `p`), in [0, 1). */
  readonly rate: number;
  readonly stream: RandomKeyStream;
}

/**
 * Dropout (`F.dropout(x, p, training=self.training)`, docs/algorithm.md#models) whose masks come from a
 * {@link RandomKeyStream}: in training mode it zeroes each element with probability `rate` and scales the
 * rest by `1 / (1 − rate)` (core's `seededDropout`: `tf.dropout` with the stream's next seed, its uniforms drawn
 * by a seeded generator — in JavaScript, or natively where the backend registers core's `DROPOUT_MASK_KERNEL` —
 * bit-identical either way, so masks are the same on every backend); in inference mode it is the identity. tfjs-layers' own dropout layer cannot be used: unseeded it is not reproducible, seeded it draws
 * the same mask on every call.
 */
export class SeededDropout extends tfl.layers.Layer {
  /** tfjs-layers class name (required of custom layers). */
  static readonly className = 'SparseLearningSeededDropout';
  private readonly rate: number;
  private readonly stream: RandomKeyStream;

  constructor(args: SeededDropoutArgs) {
    super({ name: args.name });
    if (!(args.rate >= 0 && args.rate < 1)) throw outOfRangeError('dropout rate', args.rate, '0 <= rate < 1');
    this.rate = args.rate;
    this.stream = args.stream;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (kwargs.training !== true || this.rate === 0) return x;
      return seededDropout(x, this.rate, this.stream.nextSeed());
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}

tf.serialization.registerClass(SeededDropout);
