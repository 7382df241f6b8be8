import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { loadTf } from '../../electron/compute/tf-backend.js';
import { CancelledError } from '../../electron/shared/errors.js';
import { balancedClassWeights, stratifiedSplit, type TrainingData } from '../../electron/train/data.js';
import { decodeHalf, encodeHalf } from '../../electron/train/float16.js';
import { classificationMetrics } from '../../electron/train/metrics.js';
import { SeededRandom } from '../../electron/train/rng.js';
import { trainHead } from '../../electron/train/trainer.js';

/** Three noisy clusters in 24 dimensions, non-negative like ReLU features. */
function clusters(perClass: number[], seed = 1): TrainingData {
  const random = new SeededRandom(seed);
  const dim = 24;
  const centers = perClass.map(() => random.uniformArray(dim, 1));
  const samples = perClass.flatMap((n, label) =>
    Array.from({ length: n }, () => ({
      label,
      features: Float32Array.from(centers[label], (c) => Math.max(0, c + (random.next() - 0.5) * 1.5)),
    })),
  );
  return { classes: perClass.map((_, k) => `class ${k}`), featureSize: dim, samples };
}

describe('head trainer building blocks', () => {
  it('splits each class for validation: 20%, at least one when a class has two, never all', () => {
    const labels = [...Array(10).fill(0), ...Array(5).fill(1), 2, 2, 3];
    const split = stratifiedSplit(labels, 4, 0.2, new SeededRandom(4));
    const valPerClass = [0, 1, 2, 3].map((k) => split.val.filter((i) => labels[i] === k).length);
    assert.deepEqual(valPerClass, [2, 1, 1, 0]);
    assert.deepEqual(
      [...split.train, ...split.val].sort((a, b) => a - b),
      labels.map((_, i) => i),
    );
    assert.deepEqual(stratifiedSplit(labels, 4, 0.2, new SeededRandom(4)), split);
    assert.notDeepEqual(stratifiedSplit(labels, 4, 0.2, new SeededRandom(5)), split);
  });

  it('weights classes inversely to their frequency', () => {
    assert.deepEqual(
      Array.from(balancedClassWeights([0, 0, 1, 1, 1, 1, 1, 1], 2)),
      [2, 8 / 12].map(Math.fround),
    );
  });

  it('computes accuracy, per-class precision / recall / F1 and the confusion matrix', () => {
    // actual:    0 0 0 1 1 2
    // predicted: 0 0 1 1 2 2
    const m = classificationMetrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ['a', 'b', 'c']);
    assert.equal(m.accuracy, 4 / 6);
    assert.deepEqual(m.confusion, [
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    assert.deepEqual(
      m.perClass.map((c) => [c.precision, c.recall, c.support]),
      [
        [1, 2 / 3, 3],
        [0.5, 0.5, 2],
        [0.5, 1, 1],
      ],
    );
    assert.equal(m.perClass[0].f1, 0.8);
  });

  it('rounds to float16 exactly as numpy does', () => {
    const values = [
      0, 1, -2.5, 65504, 70000, 1e-5, 6e-8, 3e-8, 1.0009765625, 1.00048828125, 1.00146484375, 0.1, 123.456,
    ];
    const numpy = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        'import sys, numpy as np, warnings; warnings.simplefilter("ignore"); ' +
          'print(",".join(str(int(b)) for b in np.array(sys.argv[1:], dtype=np.float32).astype(np.float16).view(np.uint16)))',
        ...values.map(String),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(numpy.status, 0, numpy.stderr);
    const bits = encodeHalf(Float32Array.from(values));
    assert.deepEqual(Array.from(bits), numpy.stdout.trim().split(',').map(Number));
    assert.equal(decodeHalf(bits)[2], -2.5);
  });
});

describe('trainHead', () => {
  it('learns, is reproducible from its seed, restores the best epoch and frees every tensor', async () => {
    const { tf } = await loadTf();
    const data = clusters([30, 30, 12]);
    const start = tf.memory().numTensors;
    const a = await trainHead(tf, data, { mode: 'full', hidden: 16, seed: 9, epochs: 60 });
    assert.equal(tf.memory().numTensors, start);
    const b = await trainHead(tf, data, { mode: 'full', hidden: 16, seed: 9, epochs: 60 });
    assert.deepEqual(b.curves, a.curves);
    assert.deepEqual(b.metrics, a.metrics);
    const c = await trainHead(tf, data, { mode: 'full', hidden: 16, seed: 10, epochs: 60 });
    assert.notDeepEqual(c.curves.trainLoss, a.curves.trainLoss);

    assert.ok(a.curves.trainLoss.at(-1)! < a.curves.trainLoss[0], 'training loss falls');
    assert.ok(a.metrics!.accuracy > 0.8, `validation accuracy ${a.metrics!.accuracy}`);
    assert.equal(a.valLoss!.toFixed(5), Math.min(...a.curves.valLoss).toFixed(5));
    assert.equal(a.curves.valLoss[a.bestEpoch - 1], Math.min(...a.curves.valLoss));
    assert.deepEqual([...a.weights.keys()].sort(), [
      'classifier.0.bias',
      'classifier.0.weight',
      'classifier.3.bias',
      'classifier.3.weight',
      'classifier.6.bias',
      'classifier.6.weight',
    ]);
    assert.deepEqual(a.weights.get('classifier.0.weight')!.shape, [16, 24]);
    assert.deepEqual(a.weights.get('classifier.6.weight')!.shape, [3, 16]);
  });

  it('starts fc6/fc7 from given weights in full mode and trains only classifier.6 in last mode', async () => {
    const { tf } = await loadTf();
    const data = clusters([10, 10]);
    const pretrained = new Map([
      ['classifier.0.weight', { shape: [16, 24], data: new Float32Array(16 * 24).fill(0.01) }],
      ['classifier.0.bias', { shape: [16], data: new Float32Array(16) }],
      ['classifier.3.weight', { shape: [16, 16], data: new Float32Array(16 * 16).fill(0.02) }],
      ['classifier.3.bias', { shape: [16], data: new Float32Array(16) }],
    ]);
    const full = await trainHead(tf, data, { mode: 'full', hidden: 16, pretrained, epochs: 1 });
    assert.deepEqual(full.pretrainedLayers, [0, 3]);
    assert.equal(full.options.learningRate, 1e-4);
    const last = await trainHead(tf, data, { mode: 'last', epochs: 2 });
    assert.deepEqual([...last.weights.keys()], ['classifier.6.weight', 'classifier.6.bias']);
    assert.deepEqual(last.weights.get('classifier.6.weight')!.shape, [2, 24]);
    assert.equal(last.options.learningRate, 1e-3);
  });

  it('trains the same with a kernel split into bands (as classifier.0 is at full size)', async () => {
    const { tf } = await loadTf();
    const data = clusters([12, 12, 12]);
    const options = { mode: 'full', hidden: 16, seed: 2, epochs: 4 } as const;
    const whole = await trainHead(tf, data, options);
    const start = tf.memory().numTensors;
    // 24 inputs × 16 outputs in bands of 5 rows (80 values): five variables for classifier.0.
    const banded = await trainHead(tf, data, { ...options, kernelBandValues: 80 });
    assert.equal(tf.memory().numTensors, start);
    for (const [name, tensor] of whole.weights) {
      const other = banded.weights.get(name)!;
      assert.deepEqual(other.shape, tensor.shape);
      const maxDiff = tensor.data.reduce((m, v, i) => Math.max(m, Math.abs(v - other.data[i])), 0);
      assert.ok(maxDiff < 1e-5, `${name} differs by ${maxDiff}`);
    }
  });

  it('stops on cancel and on an error with every tensor freed', async () => {
    const { tf } = await loadTf();
    const data = clusters([20, 20]);
    const start = tf.memory().numTensors;
    const controller = new AbortController();
    await assert.rejects(
      trainHead(
        tf,
        data,
        { mode: 'full', hidden: 16, epochs: 50 },
        {
          signal: controller.signal,
          onEpoch: () => controller.abort(),
        },
      ),
      CancelledError,
    );
    assert.equal(tf.memory().numTensors, start);
    await assert.rejects(
      trainHead(
        tf,
        data,
        { mode: 'last', epochs: 50 },
        {
          onEpoch: () => {
            throw new Error('boom');
          },
        },
      ),
      /boom/,
    );
    assert.equal(tf.memory().numTensors, start);
  });

  it('refuses one class and a class without images', async () => {
    const { tf } = await loadTf();
    const one = clusters([5]);
    await assert.rejects(trainHead(tf, one, { mode: 'last' }), /at least two classes/);
    const empty = clusters([5, 5]);
    empty.classes.push('nobody');
    await assert.rejects(trainHead(tf, empty, { mode: 'last' }), /'nobody' has no labelled image/);
  });
});
