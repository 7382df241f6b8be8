/**
 * Inverted dropout, as torch.nn.Dropout computes it: in training each activation is zeroed with probability p and
 * the kept ones are scaled by 1/(1−p), so the expected activation is unchanged and eval mode is the identity.
 * The head trainer applies it after each hidden ReLU of the classifier (torchvision's classifier.2 and .5).
 */
import type * as TfTypes from '@tensorflow/tfjs';
import { SortaError } from '../shared/errors.js';
import type { Tf } from '../compute/tf-backend.js';
import { DROPOUT_RATE } from './arch.js';

/** One dropout application: a fresh mask of keep/drop decisions, kept values scaled by 1/(1−rate). */
export function invertedDropout<T extends TfTypes.Tensor>(tf: Tf, x: T, rate: number, seed?: number): T {
  checkRate(rate);
  if (rate === 0) return tf.clone(x);
  return tf.tidy(() => {
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', seed), rate), 'float32');
    return tf.mul(x, tf.mul(keep, 1 / (1 - rate))) as T;
  });
}

/**
 * A dropout layer for a training loop: `apply(x, true)` drops (a new mask each call; reproducible when a seed is
 * given), `apply(x, false)` is the identity (a clone, so the caller may dispose input and output independently).
 */
export class Dropout {
  private calls = 0;

  constructor(
    private readonly tf: Tf,
    readonly rate: number = DROPOUT_RATE,
    private readonly seed?: number,
  ) {
    checkRate(rate);
  }

  apply<T extends TfTypes.Tensor>(x: T, training: boolean): T {
    if (!training) return this.tf.clone(x);
    const seed = this.seed === undefined ? undefined : this.seed + this.calls;
    this.calls++;
    return invertedDropout(this.tf, x, this.rate, seed);
  }
}

function checkRate(rate: number): void {
  if (!(rate >= 0 && rate < 1)) throw new SortaError('usage', `dropout rate must be in [0, 1), got ${rate}`);
}
