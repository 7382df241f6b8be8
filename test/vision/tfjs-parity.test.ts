/**
 * Parity of the TF.js engine with PyTorch, on the fixtures written by test/fixtures/generate/vision_parity.py
 * (torch 1.13, torchvision 0.14): sharp decode and preprocessing, weights from the safetensors files, the TF.js VGG
 * on the process's TF.js backend, the batching pipeline — the path `sorta predict` takes with SORTA_ENGINE=tfjs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { loadTf, type TfRuntime } from '../../electron/compute/tf-backend.js';
import { TfjsVggEngine } from '../../electron/vision/tfjs-engine.js';
import { loadVggWeights } from '../../electron/vision/weights.js';
import { FIXTURES, maxAbsDiff, readParityFixtures, runParityCases } from './helpers.js';

const expected = readParityFixtures();

describe('PyTorch parity (TF.js engine)', () => {
  let runtime: TfRuntime;
  const report: string[] = [];
  before(async () => {
    runtime = await loadTf();
  });
  after(() => console.log(report.join('\n')));

  for (const model of expected.models) {
    for (const inputSize of [224, 160]) {
      it(`${model.name} at ${inputSize}: every fixture image within 1e-3 of torchvision's logits`, async () => {
        const cases = expected.cases.filter((c) => c.model === model.name && c.inputSize === inputSize);
        assert.ok(cases.length >= 6, 'fixtures hold exact and resampled cases at this size');
        const start = runtime.tf.memory().numTensors;
        const weights = await loadVggWeights(join(FIXTURES, model.weights), model.arch);
        const engine = await TfjsVggEngine.create(weights, {
          inputSize,
          outputs: ['logits', 'pooled'],
          runtime,
        });
        let results: Awaited<ReturnType<typeof runParityCases>>;
        try {
          results = await runParityCases(engine, cases);
        } finally {
          await engine.close();
        }
        assert.equal(runtime.tf.memory().numTensors, start, 'the engine left tensors behind');
        let worst = 0;
        for (const { case: c, logits, pooled } of results) {
          const diff = maxAbsDiff(logits, c.logits);
          worst = Math.max(worst, diff);
          assert.ok(diff <= 1e-3, `${c.image}: max |Δlogit| ${diff}`);
          if (c.pooled) assert.ok(maxAbsDiff(pooled, c.pooled) <= 1e-4, `${c.image}: pooled`);
        }
        report.push(
          `TF.js (${runtime.backend}) ${model.name} @${inputSize}, ${cases.length} images: ` +
            `max |Δlogit| = ${worst.toExponential(2)}`,
        );
      });
    }
  }

  it('on the plain cpu backend too (a child process with SORTA_BACKEND=cpu), for the BN model at 160 px', () => {
    const model = expected.models.find((m) => m.arch.endsWith('_bn'))!;
    const cases = expected.cases.filter((c) => c.model === model.name && c.inputSize === 160).slice(0, 3);
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('../helpers/tfjs-logits-child.ts', import.meta.url)),
        join(FIXTURES, model.weights),
        model.arch,
        '160',
        ...cases.map((c) => join(FIXTURES, c.image)),
      ],
      { env: { ...process.env, SORTA_BACKEND: 'cpu' }, encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    const result = JSON.parse(child.stdout) as { backend: string; logits: number[][] };
    assert.equal(result.backend, 'cpu');
    cases.forEach((c, i) => {
      const diff = maxAbsDiff(result.logits[i], c.logits);
      assert.ok(diff <= 1e-3, `${c.image}: max |Δlogit| ${diff}`);
    });
  });
});
