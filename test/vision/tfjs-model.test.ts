import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadTf, type Tf } from '../../electron/compute/tf-backend.js';
import { pooledFeatureSize, vggSpec, type ArchName } from '../../electron/vision/arch.js';
import { TfjsVgg } from '../../electron/vision/tfjs-model.js';
import { randomBatch, randomVggWeights } from '../helpers/random-vgg.js';
import { referenceForward } from '../helpers/vgg-reference.js';

const small = (arch: ArchName) => vggSpec(arch, { widthScale: 1 / 16, hidden: 64, numClasses: 5 });

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function maxAbs(a: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]));
  return max;
}

describe('TF.js VGG', () => {
  let tf: Tf;
  before(async () => {
    tf = (await loadTf()).tf;
  });

  for (const arch of ['vgg11_bn', 'vgg16'] as const) {
    for (const size of [32, 64, 100]) {
      it(`${arch} at ${size} px equals a naive float64 PyTorch-semantics forward pass (logits, fc7, pooled)`, async () => {
        const spec = small(arch);
        const weights = randomVggWeights(spec, { seed: size });
        const n = 2;
        const batch = randomBatch(n, size, size + 1);
        const model = TfjsVgg.create(tf, weights);
        try {
          const out = await model.run(batch, n, ['logits', 'fc7', 'pooled']);
          const imageLength = 3 * size * size;
          for (let b = 0; b < n; b++) {
            const ref = referenceForward(
              spec,
              weights.tensors,
              batch.subarray(b * imageLength, (b + 1) * imageLength),
              size,
            );
            const pick = (a: Float32Array, width: number) => a.subarray(b * width, (b + 1) * width);
            const pooled = pick(out.pooled!, pooledFeatureSize(spec));
            const fc7 = pick(out.fc7!, spec.hidden);
            const logits = pick(out.logits!, spec.numClasses);
            assert.ok(maxAbs(ref.pooled) > 0.1, 'the test network must produce non-trivial features');
            assert.ok(maxAbsDiff(pooled, ref.pooled) <= 1e-4 * Math.max(1, maxAbs(ref.pooled)), 'pooled');
            assert.ok(maxAbsDiff(fc7, ref.fc7!) <= 1e-4 * Math.max(1, maxAbs(ref.fc7!)), 'fc7');
            assert.ok(maxAbsDiff(logits, ref.logits!) <= 1e-4 * Math.max(1, maxAbs(ref.logits!)), 'logits');
          }
        } finally {
          model.dispose();
        }
      });
    }
  }

  it('leaves tf.memory().numTensors unchanged over 100 batches and frees every weight on dispose()', async () => {
    const start = tf.memory().numTensors;
    const model = TfjsVgg.create(tf, randomVggWeights(small('vgg11_bn')));
    const batch = randomBatch(2, 32);
    await model.run(batch, 2, ['logits']); // the first run caches the pooling matrix for this size
    const loaded = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      const out = await model.run(batch, 2, i % 2 ? ['logits', 'fc7', 'pooled'] : ['pooled']);
      assert.ok(out.pooled);
    }
    assert.equal(tf.memory().numTensors, loaded);
    // forward() inside the caller's tidy: only what the caller keeps survives.
    tf.tidy(() => {
      const out = model.forward(tf.tensor4d(batch, [2, 3, 32, 32]), ['logits', 'fc7']);
      assert.deepEqual(out.logits!.shape, [2, 5]);
    });
    assert.equal(tf.memory().numTensors, loaded);
    model.dispose();
    assert.equal(tf.memory().numTensors, start);
  });

  it('holds weights as constants, never as trainable variables', () => {
    const variablesBefore = Object.keys(tf.engine().registeredVariables).length;
    const model = TfjsVgg.create(tf, randomVggWeights(small('vgg11')));
    assert.equal(Object.keys(tf.engine().registeredVariables).length, variablesBefore);
    model.dispose();
  });

  it('runs features-only weights for the pooled output and refuses classifier outputs with a clear error', async () => {
    const spec = small('vgg13_bn');
    const model = TfjsVgg.create(tf, randomVggWeights(spec, { classifier: false }));
    try {
      assert.equal(model.hasClassifier, false);
      const out = await model.run(randomBatch(1, 40), 1, ['pooled']);
      assert.equal(out.pooled!.length, pooledFeatureSize(spec));
      await assert.rejects(model.run(randomBatch(1, 40), 1, ['logits']), /needs classifier weights/);
    } finally {
      model.dispose();
    }
  });

  it('computes probs as the softmax of the logits, and runs a head override on features-only weights', async () => {
    const spec = small('vgg11_bn');
    const full = randomVggWeights(spec, { seed: 11 });
    const head = new Map([...full.tensors].filter(([name]) => name.startsWith('classifier.')));
    const featuresOnly = randomVggWeights(spec, { seed: 11, classifier: false });
    const withHead = TfjsVgg.create(tf, featuresOnly, { headOverride: head });
    const original = TfjsVgg.create(tf, full);
    try {
      const batch = randomBatch(3, 36, 5);
      const a = await withHead.run(batch, 3, ['logits', 'probs']);
      const b = await original.run(batch, 3, ['logits']);
      assert.deepEqual(a.logits, b.logits);
      for (let r = 0; r < 3; r++) {
        const logits = Array.from(a.logits!.subarray(r * 5, r * 5 + 5));
        const max = Math.max(...logits);
        const exps = logits.map((v) => Math.exp(v - max));
        const sum = exps.reduce((x, y) => x + y, 0);
        for (let k = 0; k < 5; k++) assert.ok(Math.abs(a.probs![r * 5 + k] - exps[k] / sum) < 1e-6);
      }
      // A head with another class count works; a head that does not fit the features is refused.
      const threeClasses = new Map(head);
      threeClasses.set('classifier.6.weight', { shape: [3, 64], data: new Float32Array(3 * 64).fill(0.01) });
      threeClasses.set('classifier.6.bias', { shape: [3], data: new Float32Array(3) });
      const three = TfjsVgg.create(tf, featuresOnly, { headOverride: threeClasses });
      assert.equal(three.numClasses, 3);
      assert.equal((await three.run(batch, 3)).logits!.length, 9);
      three.dispose();
      const misfit = new Map(head);
      misfit.set('classifier.0.weight', { shape: [64, 100], data: new Float32Array(6400) });
      assert.throws(
        () => TfjsVgg.create(tf, featuresOnly, { headOverride: misfit }),
        /classifier\.0\.weight.*expected \[out, 1568\]/,
      );
    } finally {
      withHead.dispose();
      original.dispose();
    }
  });

  it('builds full-width vgg16_bn: 25088 pooled features from any size ≥ 32, and a 1000-class head on them', async () => {
    const spec = vggSpec('vgg16_bn');
    const features = randomVggWeights(spec, { classifier: false });
    // A narrow head (hidden 16) keeps the test fast; its first layer still reads all 25088 pooled features.
    const head = randomVggWeights(vggSpec('vgg16_bn', { widthScale: 1 / 64, hidden: 16, numClasses: 1000 }));
    const headOverride = new Map([...head.tensors].filter(([name]) => /^classifier\.[36]\./.test(name)));
    headOverride.set('classifier.0.weight', {
      shape: [16, 25088],
      data: new Float32Array(16 * 25088).fill(1e-3),
    });
    headOverride.set('classifier.0.bias', { shape: [16], data: new Float32Array(16) });
    const model = TfjsVgg.create(tf, features, { headOverride });
    try {
      const out = await model.run(randomBatch(2, 32), 2, ['pooled', 'fc7', 'logits']);
      assert.equal(out.pooled!.length, 2 * 25088);
      assert.equal(out.fc7!.length, 2 * 16);
      assert.equal(out.logits!.length, 2 * 1000);
      assert.equal((await model.run(randomBatch(1, 50), 1, ['pooled'])).pooled!.length, 25088);
    } finally {
      model.dispose();
    }
  });

  it('refuses weights with a missing or wrongly shaped tensor, naming it, and leaks nothing', () => {
    const start = tf.memory().numTensors;
    const spec = small('vgg11_bn');
    const missing = randomVggWeights(spec);
    missing.tensors.delete('features.5.running_var');
    assert.throws(() => TfjsVgg.create(tf, missing), /features\.5\.running_var/);
    const wrong = randomVggWeights(spec);
    wrong.tensors.set('classifier.3.weight', { shape: [64, 63], data: new Float32Array(64 * 63) });
    assert.throws(() => TfjsVgg.create(tf, wrong), /classifier\.3\.weight.*\[64, 63\]/);
    const wrongConv = randomVggWeights(spec);
    wrongConv.tensors.set('features.4.weight', { shape: [8, 5, 3, 3], data: new Float32Array(8 * 5 * 9) });
    assert.throws(
      () => TfjsVgg.create(tf, wrongConv),
      /'features\.4\.weight' has shape \[8, 5, 3, 3\], expected \[8, 4, 3, 3\]/,
    );
    assert.equal(tf.memory().numTensors, start);
  });

  it('refuses inputs below 32 px and batches that are not n square RGB images', async () => {
    const model = TfjsVgg.create(tf, randomVggWeights(small('vgg11')));
    try {
      await assert.rejects(model.run(randomBatch(1, 31), 1), /smaller than the minimum 32×32/);
      await assert.rejects(model.run(new Float32Array(3 * 32 * 33), 1), /cannot hold/);
    } finally {
      model.dispose();
    }
  });

  it('with releaseSource, drops each JavaScript weight array once uploaded', async () => {
    const spec = small('vgg11_bn');
    const weights = randomVggWeights(spec);
    const reference = randomVggWeights(spec);
    const model = TfjsVgg.create(tf, weights, { releaseSource: true });
    const kept = TfjsVgg.create(tf, reference);
    try {
      assert.equal(weights.tensors.size, 0);
      const batch = randomBatch(1, 48);
      const [a, b] = [await model.run(batch, 1), await kept.run(batch, 1)];
      assert.deepEqual(a.logits, b.logits);
    } finally {
      model.dispose();
      kept.dispose();
    }
  });
});
