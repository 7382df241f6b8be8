import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Scalar } from '@tensorflow/tfjs';
import { loadTf, type Tf } from '../../electron/compute/tf-backend.js';
import { Dropout, invertedDropout } from '../../electron/vision/dropout.js';

const N = 200_000;

describe('inverted dropout', () => {
  let tf: Tf;
  before(async () => {
    tf = (await loadTf()).tf;
  });

  for (const rate of [0.5, 0.2]) {
    it(`in training drops a fraction ≈ ${rate} and scales the kept values by 1/(1−${rate}), preserving the mean`, () => {
      const start = tf.memory().numTensors;
      const x = tf.randomUniform([N], 0.5, 1.5, 'float32', 3);
      const y = invertedDropout(tf, x, rate);
      const [xs, ys] = [x.dataSync(), y.dataSync()];
      let dropped = 0;
      let sumX = 0;
      let sumY = 0;
      for (let i = 0; i < N; i++) {
        sumX += xs[i];
        sumY += ys[i];
        if (ys[i] === 0) dropped++;
        else assert.ok(Math.abs(ys[i] - xs[i] / (1 - rate)) <= 1e-6 * ys[i], `kept value ${i} not scaled`);
      }
      // Binomial: the standard deviation of the dropped fraction is √(p(1−p)/N) ≤ 0.0012; allow ~6σ.
      assert.ok(Math.abs(dropped / N - rate) < 0.007, `dropped ${dropped / N}`);
      assert.ok(Math.abs(sumY / sumX - 1) < 0.015, `mean ratio ${sumY / sumX}`);
      x.dispose();
      y.dispose();
      assert.equal(tf.memory().numTensors, start);
    });
  }

  it('is the identity in eval mode and draws a new mask per training call', () => {
    const layer = new Dropout(tf, 0.5, 42);
    const x = tf.ones([1000]);
    const evalOut = layer.apply(x, false);
    assert.deepEqual(Array.from(evalOut.dataSync()), Array.from(x.dataSync()));
    const a = layer.apply(x, true).dataSync();
    const b = layer.apply(x, true).dataSync();
    assert.notDeepEqual(Array.from(a), Array.from(b));
    for (const v of a) assert.ok(v === 0 || v === 2);
    // The same seed replays the same masks.
    const again = new Dropout(tf, 0.5, 42);
    again.apply(x, false);
    assert.deepEqual(Array.from(again.apply(x, true).dataSync()), Array.from(a));
    tf.dispose([x, evalOut]);
  });

  it('passes gradients through the kept units only, scaled by 1/(1−p)', () => {
    const x = tf.ones([500]);
    const v = tf.variable(tf.ones([500]), true, 'dropout-test-v');
    const { value, grads } = tf.variableGrads(
      () => tf.sum(invertedDropout(tf, tf.mul(v, x), 0.25, 9)) as Scalar,
      [v],
    );
    const g = grads['dropout-test-v'].dataSync();
    for (const value of g) assert.ok(value === 0 || Math.abs(value - 1 / 0.75) < 1e-6);
    assert.ok(g.some((value) => value === 0) && g.some((value) => value !== 0));
    tf.dispose([x, value, grads['dropout-test-v'], v]);
  });

  it('refuses a rate outside [0, 1)', () => {
    assert.throws(() => new Dropout(tf, 1), /\[0, 1\)/);
    assert.throws(() => new Dropout(tf, -0.1), /\[0, 1\)/);
  });
});
