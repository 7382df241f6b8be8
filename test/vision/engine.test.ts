import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadTf, type Tf } from '../../electron/compute/tf-backend.js';
import { vggSpec } from '../../electron/vision/arch.js';
import {
  chooseInferenceEngine,
  createInferenceEngine,
  decideInferenceEngine,
  type EngineFacts,
} from '../../electron/vision/engine.js';
import { TfjsVggEngine } from '../../electron/vision/tfjs-engine.js';
import type { LoadedWeights } from '../../electron/vision/weights.js';
import { runSorta } from '../helpers/cli.js';
import { randomBatch, randomVggWeights } from '../helpers/random-vgg.js';

const cpuOnly: EngineFacts['ort'] = { available: true, provider: 'cpu', gpuProvidersOffered: ['webgpu'] };

describe('inference engine choice', () => {
  it('defaults to ONNX Runtime and says why', () => {
    const choice = decideInferenceEngine({ ort: cpuOnly, tf: { backend: 'wasm', gpu: false } });
    assert.equal(choice.engine, 'onnx');
    assert.equal(choice.override, null);
    assert.match(choice.reasons.join(' '), /default engine/);
    assert.match(choice.reasons.join(' '), /TF\.js has no GPU here \(backend wasm\)/);
  });

  it('picks TF.js when tfjs-node-gpu drives a GPU and ORT would run on the CPU', () => {
    const choice = decideInferenceEngine({ ort: cpuOnly, tf: { backend: 'tfjs-node-gpu', gpu: true } });
    assert.equal(choice.engine, 'tfjs');
    assert.match(choice.reasons[0], /TF\.js drives the GPU through tfjs-node-gpu/);
    assert.match(choice.reasons[1], /SORTA_ORT_EP/);
  });

  it('keeps ONNX Runtime when it runs on a GPU provider itself', () => {
    const choice = decideInferenceEngine({
      ort: { available: true, provider: 'cuda', gpuProvidersOffered: ['cuda'] },
      tf: { backend: 'tfjs-node-gpu', gpu: true },
    });
    assert.equal(choice.engine, 'onnx');
    assert.match(choice.reasons[0], /cuda/);
  });

  it('falls back to TF.js when ONNX Runtime cannot load', () => {
    const choice = decideInferenceEngine({
      ort: {
        available: false,
        error: 'libonnxruntime.so: cannot open',
        provider: null,
        gpuProvidersOffered: [],
      },
      tf: { backend: 'wasm', gpu: false },
    });
    assert.equal(choice.engine, 'tfjs');
    assert.match(choice.reasons[0], /ONNX Runtime cannot load: libonnxruntime\.so/);
  });

  it('obeys SORTA_ENGINE and refuses an unknown value', () => {
    const tfGpu = { backend: 'tfjs-node-gpu', gpu: true };
    assert.equal(decideInferenceEngine({ override: 'onnx', ort: cpuOnly, tf: tfGpu }).engine, 'onnx');
    const forced = decideInferenceEngine({ override: 'TFJS', ort: cpuOnly, tf: null });
    assert.deepEqual([forced.engine, forced.override], ['tfjs', 'tfjs']);
    assert.throws(
      () => decideInferenceEngine({ override: 'torch', ort: cpuOnly, tf: null }),
      /SORTA_ENGINE=torch/,
    );
  });

  it('on this machine (ORT loads, no tfjs-node-gpu) chooses ONNX Runtime unless SORTA_ENGINE says otherwise', async () => {
    assert.equal((await chooseInferenceEngine({ env: {} })).engine, 'onnx');
    assert.equal((await chooseInferenceEngine({ env: { SORTA_ENGINE: 'tfjs' } })).engine, 'tfjs');
  });
});

describe('sorta doctor reports the engine', () => {
  it('names the engine and its reasons, following SORTA_ENGINE (built CLI)', async () => {
    const plain = await runSorta(['doctor']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^Inference +onnx \(ONNX Runtime is the default engine/m);
    const forced = await runSorta(['doctor', '--json'], { env: { SORTA_ENGINE: 'tfjs' } });
    assert.equal(forced.code, 0, forced.stderr);
    const report = JSON.parse(forced.stdout) as {
      engine: { engine: string; reasons: string[] };
      tfjs: object;
    };
    assert.equal(report.engine.engine, 'tfjs');
    assert.deepEqual(report.engine.reasons, ['SORTA_ENGINE=tfjs chooses it']);
    assert.ok(report.tfjs, 'the existing fields stay');
  });
});

describe('both engines behind one interface', () => {
  let tf: Tf;
  before(async () => {
    tf = (await loadTf()).tf;
  });

  const spec = vggSpec('vgg13_bn', { widthScale: 1 / 16, hidden: 64, numClasses: 5 });
  const weights = (): LoadedWeights => ({ ...randomVggWeights(spec, { seed: 21 }), checksum: 'test' });

  for (const inputSize of [64, 90]) {
    it(`ONNX Runtime and TF.js give the same pooled, fc7, logits and probs at ${inputSize} px`, async () => {
      const start = tf.memory().numTensors;
      const outputs = ['pooled', 'fc7', 'logits', 'probs'] as const;
      const onnx = await createInferenceEngine(weights(), {
        engine: 'onnx',
        inputSize,
        outputs: [...outputs],
      });
      const tfjs = await createInferenceEngine(weights(), {
        engine: 'tfjs',
        inputSize,
        outputs: [...outputs],
      });
      try {
        assert.deepEqual([onnx.engine, tfjs.engine], ['onnx', 'tfjs']);
        const n = 3;
        const batch = randomBatch(n, inputSize, 4);
        const [a, b] = [await onnx.run(batch, n), await tfjs.run(batch, n)];
        for (const name of outputs) {
          assert.equal(a[name].length, b[name].length, name);
          let maxDiff = 0;
          let maxAbs = 0;
          for (let i = 0; i < a[name].length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[name][i] - b[name][i]));
            maxAbs = Math.max(maxAbs, Math.abs(a[name][i]));
          }
          assert.ok(maxAbs > 0, `${name} is all zeros`);
          assert.ok(maxDiff <= 1e-4 * Math.max(1, maxAbs), `${name}: max |Δ| ${maxDiff}`);
        }
      } finally {
        await onnx.close();
        await tfjs.close();
      }
      assert.equal(tf.memory().numTensors, start);
    });
  }

  it('the TF.js engine refuses classifier outputs for features-only weights when it starts', async () => {
    const featuresOnly = { ...randomVggWeights(spec, { classifier: false }), checksum: 'test' };
    const start = tf.memory().numTensors;
    await assert.rejects(
      TfjsVggEngine.create(featuresOnly, { inputSize: 64, outputs: ['logits'] }),
      /needs classifier weights/,
    );
    assert.equal(tf.memory().numTensors, start);
  });
});
