/**
 * Adam exactly as torch.optim.Adam computes it (lr, betas, eps; bias-corrected moments; no weight decay), applied
 * one variable at a time, each in its own small tf.tidy, and each gradient disposed as soon as it is used: TF.js's
 * own Adam updates every variable inside one tidy, so all its temporaries coexist — more than the 4 GiB WASM heap
 * holds for VGG's full classifier.
 */
import type * as TfTypes from '@tensorflow/tfjs';
import type { Tf } from '../compute/tf-backend.js';

export class Adam {
  private readonly firstMoments: TfTypes.Variable[];
  private readonly secondMoments: TfTypes.Variable[];
  private step = 0;

  constructor(
    private readonly tf: Tf,
    private readonly params: readonly TfTypes.Variable[],
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    this.firstMoments = [];
    this.secondMoments = [];
    try {
      for (const p of params) {
        // tf.variable shares the initial tensor's data: the zeros themselves are disposed right away.
        const zeros = tf.zerosLike(p);
        this.firstMoments.push(tf.variable(zeros, false));
        this.secondMoments.push(tf.variable(zeros, false));
        zeros.dispose();
      }
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /** Applies one update; takes ownership of `gradients` (one per param, same order) and disposes them. */
  apply(gradients: TfTypes.Tensor[]): void {
    const tf = this.tf;
    this.step++;
    const correction1 = 1 - this.beta1 ** this.step;
    const correction2 = 1 - this.beta2 ** this.step;
    try {
      this.params.forEach((param, i) => {
        const g = gradients[i];
        const m = this.firstMoments[i];
        const v = this.secondMoments[i];
        tf.tidy(() => m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1))));
        tf.tidy(() => v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2))));
        g.dispose();
        tf.tidy(() => {
          const denominator = tf.add(tf.sqrt(tf.div(v, correction2)), this.epsilon);
          const update = tf.mul(tf.div(m, denominator), this.learningRate / correction1);
          param.assign(tf.sub(param, update));
        });
      });
    } finally {
      tf.dispose(gradients);
    }
  }

  dispose(): void {
    this.tf.dispose([...this.firstMoments, ...this.secondMoments]);
    this.firstMoments.length = 0;
    this.secondMoments.length = 0;
  }
}
